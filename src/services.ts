import type { Logger } from 'pino'
import type { LoadedConfig } from './config/load.js'
import { createExecaRunner, type RsyncRunner } from './rsync/runner.js'
import { createSyncEngine, type Reconfigured } from './sync/engine.js'
import { createLookupThread } from './sync/lookup-thread.js'
import type { SourceLookup } from './sync/source-lookup.js'
import { createReadiness } from './sync/readiness.js'
import type { Change, WatcherStatus } from './watcher/watcher.js'
import type { AppServices } from './http/services.js'
import { createMetrics } from './metrics.js'
import { createEventLog } from './sync/event-log.js'
import { createJobRetention } from './sync/job-retention.js'
import { createSourceGuard } from './sync/source-guard.js'
import { diffConfig, type ConfigChanges } from './config/diff.js'
import { packageVersion } from './version.js'
import { engineOptions, meshDirs, meshExcludes } from './services/engine-options.js'
import { createMeshNode } from './services/mesh-node.js'
import { createShutdown } from './services/shutdown.js'
import { createSourceWatch } from './services/source-watch.js'
import { openStores } from './services/stores.js'
import { createTargetSet } from './services/target-set.js'
import { createWatcherBackend } from './services/watcher-backend.js'

export interface ServicesOptions {
  loaded: LoadedConfig
  logger: Logger
  /** The environment rsync children start from. */
  env: Record<string, string | undefined>
  /** A seam for tests; production runs the real rsync. */
  runner?: RsyncRunner
  /**
   * The parcel backend on a thread of its own where threads.watcher says so
   * (the default), or on the service's thread whatever it says. Its native
   * addon loads in one thread per process, so a process that starts several
   * services (the tests) keeps it on the service's thread.
   */
  watcherThread?: boolean
  /**
   * Many source lookups on a thread of their own (the default), or on
   * libuv's pool. A worker thread runs built code only, so a process that
   * runs the sources (the tests) keeps them in-process.
   */
  lookupThread?: boolean
  /** Where the directory of SSH control sockets is made (the system's temporary directory by default). */
  sshControlParent?: string
}

export type Services = Awaited<ReturnType<typeof createServices>>

/** What reconfigure() did: nothing when a key that needs a restart changed. */
export type ReconfigureOutcome =
  | { applied: false; changes: ConfigChanges }
  | { applied: true; changes: ConfigChanges; engine: Reconfigured }

/** What close() and destroy() close once no rsync runs any more: the HTTP app. */
export interface Closable {
  close (): Promise<unknown>
}

/**
 * Wires database, watcher and engine together. Making them opens and
 * migrates the database; the watch and the runs wait for start(). The one
 * owner of shutdown: close() stops in the order that loses nothing (watcher,
 * then rsync, then the API, then the database), destroy() stops at once.
 */
export function createServices ({ loaded, logger, env, runner, watcherThread = true, lookupThread = true, sshControlParent }: ServicesOptions) {
  const { config } = loaded
  // What /v1/status and syncplane_build_info say of this process.
  const about = { version: packageVersion(), startedAt: Date.now() }
  /** The configuration in effect: the one started with, or the last reload applied. */
  let current = loaded
  const stores = openStores(config, logger)
  const { db, jobs, settings } = stores
  const targets = createTargetSet({ loaded, logger, sshControlParent })

  const lookup: SourceLookup | undefined = lookupThread
    ? createLookupThread({ source: config.source, nice: config.threads.nice, logger: logger.child({ component: 'lookup' }) })
    : undefined

  const sourceGuard = createSourceGuard({
    root: config.source,
    marker: config.sourceMarker,
    settings,
    logger: logger.child({ component: 'source' }),
    pollMs: SOURCE_POLL_MS,
    onChange: (fault, current) => {
      engine.sourceChanged(fault)
      mesh?.sourceChanged(fault?.message ?? null)
      sourceWatch.rootChanged(current)
    },
  })
  // A source fault is the watcher's: it no longer sees the tree it was asked to watch.
  const watcherStatus = (): WatcherStatus => {
    const fault = sourceGuard.current()
    if (fault !== null) return { state: 'degraded', lastError: fault.message }
    return sourceWatch.status()
  }

  const rsyncRunner = runner ?? createExecaRunner({ binary: config.rsync.binary, baseEnv: env, nice: config.rsync.nice })
  const engine = createSyncEngine({
    options: engineOptions(config),
    targets: targets.initial,
    jobs,
    pending: stores.pending,
    journalWriter: stores.journalWriter,
    settings,
    runner: rsyncRunner,
    logger: logger.child({ component: 'sync' }),
    watcherStatus,
    lookup,
    source: sourceGuard,
    watcherBarrier: (signal) => sourceWatch.barrier(signal),
  })

  const mesh = createMeshNode(loaded, {
    db,
    runner: rsyncRunner,
    sourceFault: () => sourceGuard.current()?.message ?? null,
    watcherBarrier: (signal) => sourceWatch.barrier(signal),
    checkWatches: (checks) => sourceWatch.checkWatches(checks),
    logger,
  })

  const retentionOf = (c: LoadedConfig['config']) => createJobRetention({ jobs, retentionDays: c.jobs.retentionDays, maxJobs: c.jobs.maxJobs, logger: logger.child({ component: 'retention' }) })
  let retention = retentionOf(config)
  let started = false
  const metrics = createMetrics({ engine, mesh, version: about.version })
  const events = createEventLog(engine, { capacity: 1_000, mesh })

  const watcherLogger = logger.child({ component: 'watcher' })
  const sink = {
    onChanges: (changes: Change[]) => {
      metrics.watcherEvents(changes.length)
      const paths = changes.map((c) => c.path)
      engine.recordChanges(paths)
      mesh?.recordChanges(paths)
    },
    onDegraded: (message: string) => engine.watcherDegraded(message),
  }
  const sourceWatch = createSourceWatch({
    root: config.source,
    make: () => createWatcherBackend({ config, excludes: [...meshExcludes(config), ...current.config.exclude], unwatched: meshDirs(config), watcherThread, sink, logger: watcherLogger }),
    onRewatched: () => engine.requestFullSync({ trigger: 'watcher' }),
    logger,
  })

  const readinessOf = (c: LoadedConfig['config']) => createReadiness({ db, database: stores.health.status, watcherStatus, targetLagsMs: () => engine.status().targets, maxLagSec: c.readiness.maxLagSec, mesh: mesh === undefined ? undefined : () => mesh.status() })
  // The routes read `readiness` from this object on every request, so a reload can replace it.
  const http: AppServices = { about, engine, jobs, readiness: readinessOf(config), database: stores.health.status, metrics, events, mesh }

  let api: Closable | undefined
  const shutdown = createShutdown({
    async stopWatching () {
      retention.stop()
      sourceGuard.close()
      await sourceWatch.close()
      // The peers' batches in flight finish; what is owed stays owed.
      await mesh?.close()
    },
    engine,
    mesh,
    closeSsh: () => targets.close(),
    closeLookup: () => lookup?.close() ?? Promise.resolve(),
    closeApi: () => api?.close() ?? Promise.resolve(),
    closeDatabase: () => stores.close(),
    // Read when the drain starts: a reload may have changed it since the start.
    drainMs: () => current.config.shutdown.drainSec * 1000,
    logger,
  })

  return {
    /** The configuration in effect. */
    get config () {
      return current.config
    },
    db,
    engine,
    jobs,
    http,
    mesh,

    /** Establishes the watch, then (if configured) mirrors every target once. */
    async start (): Promise<void> {
      sourceGuard.start()
      await sourceWatch.start()
      engine.start()
      mesh?.start()
      retention.start()
      started = true
      if (current.config.fullSync.onStart) engine.requestFullSync({ trigger: 'startup' })
    },

    /**
     * Takes over a reloaded configuration, or none of it when a key that
     * needs a restart changed: half a file applied would match neither
     * version of it (new targets fed from the old source, say).
     */
    reconfigure (next: LoadedConfig): ReconfigureOutcome {
      const changes = diffConfig(current, next)
      if (changes.restartOnly.length > 0) return { applied: false, changes }
      const c = next.config
      const defs = targets.resolve(next, new Set([...changes.targets.added, ...changes.targets.changed]))
      const done = engine.reconfigure(engineOptions(c), defs)
      targets.adopt(defs)
      sourceWatch.reconfigure({ excludes: [...meshExcludes(c), ...c.exclude], logLevel: c.logLevel })
      http.readiness = readinessOf(c)
      if (changes.keys.some((k) => k.startsWith('jobs.'))) {
        retention.stop()
        retention = retentionOf(c)
        if (started) retention.start()
      }
      current = next
      // An added target gets what every target gets at start.
      if (started && c.fullSync.onStart && done.added.length > 0) engine.requestFullSync({ targets: done.added, trigger: 'reload' })
      return { applied: true, changes, engine: done }
    },

    /**
     * The HTTP app that serves these services: close() and destroy() close
     * it once the runs are over, so the API answers throughout the drain,
     * and before the database, so no request meets a closed one.
     */
    attachApi (app: Closable): void {
      api = app
    },

    /**
     * Drains: the watch stops, running rsyncs get shutdown.drainSec to
     * finish and are stopped after it, then the API closes and the database
     * takes its last writes. Once; a second call joins the first.
     */
    close (): Promise<void> {
      return shutdown.close()
    },

    /**
     * Stops at once, during a close() or without one (a second signal): the
     * running rsyncs are stopped (their jobs end interrupted, their paths
     * stay journaled), and the watcher thread may end the parcel call it is
     * in, since a thread torn down by exit in the middle of one aborts the
     * process; that and the end of the runs are waited for 2 s at most.
     * Then the API and the database close. Once; a second call joins the first.
     */
    destroy (): Promise<void> {
      return shutdown.destroy()
    },
  }
}

/** Between runs the source root is looked at this often (runs look for themselves): a fault is seen within 2 s. */
const SOURCE_POLL_MS = 500
