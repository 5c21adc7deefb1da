import type { Logger } from 'pino'
import type { LoadedConfig } from './config/load.js'
import { openDatabase } from './db/open.js'
import { migrate } from './db/migrate.js'
import { createJobStore } from './db/job-store.js'
import { createPendingStore } from './db/pending-store.js'
import { createSettingsStore } from './db/settings-store.js'
import { createDatabaseHealth } from './db/database-health.js'
import { createResilientJobStore } from './db/resilient-job-store.js'
import { createResilientSettings } from './db/resilient-settings.js'
import { createJournalWriter } from './sync/journal-writer.js'
import { createExecaRunner, type RsyncRunner } from './rsync/runner.js'
import { createSshConnections, type SshConnections } from './rsync/ssh-connections.js'
import { createSyncEngine, type EngineOptions, type Reconfigured } from './sync/engine.js'
import { createLookupThread } from './sync/lookup-thread.js'
import type { SourceLookup } from './sync/source-lookup.js'
import { createReadiness } from './sync/readiness.js'
import { resolveTarget, resolveTargets, type ResolvedTarget } from './sync/targets.js'
import { parseTargetUrl } from './config/target-url.js'
import { createChokidarWatcher } from './watcher/chokidar-watcher.js'
import { compileExcludes } from './watcher/exclude-matcher.js'
import { createParcelThreadWatcher } from './watcher/parcel-thread.js'
import { createParcelWatcher } from './watcher/parcel-watcher.js'
import { SENTINEL_EXCLUDE } from './watcher/flush-sentinel.js'
import type { Change, Watcher, WatcherStatus } from './watcher/watcher.js'
import type { AppServices } from './http/services.js'
import { createMetrics } from './metrics.js'
import { createEventLog } from './sync/event-log.js'
import { createJobRetention } from './sync/job-retention.js'
import { createSourceGuard } from './sync/source-guard.js'
import { readRootIdentity, type RootIdentity } from './watcher/source-identity.js'
import { diffConfig, type ConfigChanges } from './config/diff.js'
import { createMeshStore } from './db/mesh-store.js'
import { createMesh, type Mesh } from './mesh/mesh.js'
import { MESH_DIR } from './mesh/mesh-paths.js'
import { packageVersion } from './version.js'

export interface ServicesOptions {
  loaded: LoadedConfig
  logger: Logger
  /** The environment rsync children start from. */
  env: Record<string, string | undefined>
  /** A seam for tests; production runs the real rsync. */
  runner?: RsyncRunner
  /**
   * The parcel backend on a thread of its own (the default), or on the
   * service's thread. Its native addon loads in one thread per process, so
   * a process that starts several services (the tests) keeps it on its own.
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

/** Every engine setting, straight from the configuration: a reload replaces them all at once. */
function engineOptions (config: LoadedConfig['config']): EngineOptions {
  return {
    source: config.source,
    // First, so no user pattern or extra argument can include a flush sentinel.
    excludes: [SENTINEL_EXCLUDE, ...meshExcludes(config), ...config.exclude],
    batch: config.batch,
    rsync: config.rsync,
    fullSync: config.fullSync,
    retry: config.retry,
    deletes: config.deletes,
  }
}

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
  const { config, secrets } = loaded
  // What /v1/status and syncplane_build_info say of this process.
  const about = { version: packageVersion(), startedAt: Date.now() }
  /** The configuration in effect: the one started with, or the last reload applied. */
  let current = loaded
  const db = openDatabase(config.database)
  const migrated = migrate(db)
  if (migrated.from !== migrated.to) logger.info(migrated, 'database migrated')

  // A failing database (a full disk) must not stop replication: every store
  // that writes keeps what it could not write, retries, and reports here.
  const databaseHealth = createDatabaseHealth({ logger: logger.child({ component: 'database' }) })
  const jobs = createResilientJobStore(createJobStore(db, { pathsPerJob: config.jobs.pathsPerJob }), {
    health: databaseHealth,
    logger: logger.child({ component: 'jobs' }),
    pathsPerJob: config.jobs.pathsPerJob,
  })
  const pending = createPendingStore(db)
  const journalWriter = createJournalWriter(pending, { health: databaseHealth })
  const settings = createResilientSettings(createSettingsStore(db), { health: databaseHealth })

  let sshConnections = openSshConnections(config, logger, sshControlParent)

  const lookup: SourceLookup | undefined = lookupThread
    ? createLookupThread({ source: config.source, nice: config.threads.nice, logger: logger.child({ component: 'lookup' }) })
    : undefined

  let watcher: Watcher | undefined
  // The directory the running watcher was started on.
  let watched: RootIdentity | null = null
  /** Another directory than the watched one is at the source path. */
  const isNewDirectory = (current: RootIdentity | null): boolean =>
    current !== null && watched !== null && (current.dev !== watched.dev || current.ino !== watched.ino)
  const sourceGuard = createSourceGuard({
    root: config.source,
    marker: config.sourceMarker,
    settings,
    logger: logger.child({ component: 'source' }),
    pollMs: SOURCE_POLL_MS,
    onChange: (fault, current) => {
      engine.sourceChanged(fault)
      mesh?.sourceChanged(fault?.message ?? null)
      if (isNewDirectory(current)) void rewatch()
    },
  })
  // A source fault is the watcher's: it no longer sees the tree it was asked to watch.
  const watcherStatus = (): WatcherStatus => {
    const fault = sourceGuard.current()
    if (fault !== null) return { state: 'degraded', lastError: fault.message }
    return watcher?.status() ?? { state: 'starting' as const, lastError: null }
  }

  const initialTargets = resolveTargets(config, secrets, sshConnections)
  /** The targets as the engine runs them: a reload hands an unchanged one over as the same object. */
  let targetDefs = new Map(initialTargets.map((d) => [d.name, d]))
  /** Names the SSH connections of targets resolved later; never one in use (see resolveTarget). */
  let nextSshKey = initialTargets.length
  const rsyncRunner = runner ?? createExecaRunner({ binary: config.rsync.binary, baseEnv: env, nice: config.rsync.nice })
  const engine = createSyncEngine({
    options: engineOptions(config),
    targets: initialTargets,
    jobs,
    pending,
    journalWriter,
    settings,
    runner: rsyncRunner,
    logger: logger.child({ component: 'sync' }),
    watcherStatus,
    lookup,
    source: sourceGuard,
    watcherBarrier: (signal) => watcher?.barrier(signal) ?? Promise.resolve(),
  })

  const mesh: Mesh | undefined = config.mesh === undefined || loaded.mesh === undefined
    ? undefined
    : createMesh({
      root: config.source,
      self: loaded.mesh.self,
      peers: config.mesh.peers.filter((p) => p.name !== loaded.mesh!.self).map((p) => ({
        name: p.name,
        api: p.api,
        rsync: { parsed: parseTargetUrl(p.url), ssh: p.ssh, password: loaded.mesh!.passwords.get(p.name) },
      })),
      secret: loaded.mesh.secret,
      store: createMeshStore(db),
      runner: rsyncRunner,
      rsync: { source: config.source, ioTimeoutSec: config.rsync.ioTimeoutSec, connectTimeoutSec: config.rsync.connectTimeoutSec, extraArgs: config.rsync.extraArgs, deadlineSec: config.rsync.deadlineSec, killGraceSec: config.rsync.killGraceSec },
      retry: config.retry,
      maxEntries: config.mesh.maxEntries,
      rescanSec: config.mesh.rescanSec,
      repairSec: config.mesh.repairSec,
      trashDays: config.mesh.trashDays,
      tombstoneDays: config.mesh.tombstoneDays,
      deletes: config.deletes,
      // A node's own marker and flush sentinels are never a change for the peers.
      isExcluded: compileExcludes([SENTINEL_EXCLUDE, ...(config.sourceMarker === null ? [] : [`/${config.sourceMarker}`]), ...config.exclude]),
      sourceFault: () => sourceGuard.current()?.message ?? null,
      watcherBarrier: (signal) => watcher?.barrier(signal) ?? Promise.resolve(),
      logger: logger.child({ component: 'mesh' }),
    })

  const retentionOf = (c: LoadedConfig['config']) => createJobRetention({ jobs, retentionDays: c.jobs.retentionDays, maxJobs: c.jobs.maxJobs, logger: logger.child({ component: 'retention' }) })
  let retention = retentionOf(config)
  let started = false
  const metrics = createMetrics({ engine, mesh, version: about.version })
  const events = createEventLog(engine, { capacity: 1_000, mesh })

  const watcherCommon = {
    root: config.source,
    logger: logger.child({ component: 'watcher' }),
    sink: {
      onChanges: (changes: Change[]) => {
        metrics.watcherEvents(changes.length)
        const paths = changes.map((c) => c.path)
        engine.recordChanges(paths)
        mesh?.recordChanges(paths)
      },
      onDegraded: (message: string) => engine.watcherDegraded(message),
    },
  }
  // With the excludes in effect (a reload may have changed them since start).
  const createWatcher = (): Watcher => config.watcher.backend === 'chokidar'
    ? createChokidarWatcher({ ...watcherCommon, isExcluded: compileExcludes([...meshExcludes(config), ...current.config.exclude]), usePolling: config.watcher.usePolling, pollIntervalMs: config.watcher.pollIntervalMs })
    : watcherThread
      ? createParcelThreadWatcher({ ...watcherCommon, excludes: [...meshExcludes(config), ...current.config.exclude], nice: config.threads.nice })
      : createParcelWatcher({ ...watcherCommon, isExcluded: compileExcludes([...meshExcludes(config), ...current.config.exclude]) })
  watcher = createWatcher()
  let stopping = false
  let rewatching: Promise<void> | null = null

  /**
   * Another directory is at the source path (a volume unmounted or mounted,
   * a root moved and made again): the old watch sees a tree that is gone.
   * Watch the new one and mirror it, since what was written before the new
   * watch was never reported; the engine holds deletions meanwhile.
   */
  async function rewatch (): Promise<void> {
    if (rewatching !== null || stopping) return
    rewatching = (async () => {
      const old = watcher!
      if (old.restart === undefined) await old.close().catch((err: unknown) => logger.warn({ err }, 'closing the old watch failed'))
      if (stopping) return
      // parcel keeps the old tree a moment after an unmount (its unsubscribe fails with EINVAL): try again.
      for (let attempt = 1; !stopping; attempt++) {
        watched = readRootIdentity(config.source)
        try {
          if (old.restart !== undefined) {
            await old.restart()
          } else {
            watcher = createWatcher()
            await watcher.start()
          }
          break
        } catch (err) {
          if (watcher !== old) await watcher!.close().catch(() => undefined)
          logger.warn({ err, attempt }, 'could not watch the directory now at the source path yet; trying again')
          await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)))
        }
      }
      if (stopping) return
      logger.warn({ source: config.source }, 'watching the directory now at the source path')
      engine.requestFullSync({ trigger: 'watcher' })
    })().catch((err: unknown) => {
      logger.error({ err }, 'could not watch the directory now at the source path')
    }).finally(() => {
      rewatching = null
      // It may have changed again meanwhile.
      const current = readRootIdentity(config.source)
      if (isNewDirectory(current)) void rewatch()
    })
    await rewatching
  }

  const readinessOf = (c: LoadedConfig['config']) => createReadiness({ db, database: databaseHealth.status, watcherStatus, targetLagsMs: () => engine.status().targets, maxLagSec: c.readiness.maxLagSec, mesh: mesh === undefined ? undefined : () => mesh.status() })
  // The routes read `readiness` from this object on every request, so a reload can replace it.
  const http: AppServices = { about, engine, jobs, readiness: readinessOf(config), database: databaseHealth.status, metrics, events, mesh }

  let api: Closable | undefined
  let closing: Promise<void> | undefined
  let destroying: Promise<void> | undefined
  let watchStopped: Promise<void> | undefined
  let sshClosed: Promise<void> | undefined
  let lookupClosed: Promise<void> | undefined
  let apiClosed: Promise<unknown> | undefined
  let databaseClosed = false

  // The steps of shutdown. Each runs once, whichever of close() and destroy() comes to it first.

  /** No change comes in any more: retention, the source guard and the watch stop (a re-watch under way ends first). */
  function stopWatching (): Promise<void> {
    watchStopped ??= (async () => {
      retention.stop()
      stopping = true
      sourceGuard.close()
      await rewatching
      await watcher!.close()
      // The peers' batches in flight finish; what is owed stays owed.
      await mesh?.close()
    })()
    return watchStopped
  }

  function closeSsh (): Promise<void> {
    sshClosed ??= sshConnections?.close() ?? Promise.resolve()
    return sshClosed
  }

  function closeLookup (): Promise<void> {
    lookupClosed ??= lookup?.close() ?? Promise.resolve()
    return lookupClosed
  }

  function closeApi (): Promise<unknown> {
    apiClosed ??= api?.close() ?? Promise.resolve()
    return apiClosed
  }

  /** A last attempt at what a failing database did not take yet, then no more retries. */
  function closeDatabase (): void {
    if (databaseClosed) return
    databaseClosed = true
    // Each one stops its retry timer, whatever the others answer.
    const written = [journalWriter.flush(), jobs.flush(), settings.flush()]
    if (written.includes(false)) logger.warn({ database: databaseHealth.status().error }, 'the database still fails: what it did not take is lost with this process (the journal is answered by a recovery mirror at the next start)')
    db.close()
  }

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
      watched = readRootIdentity(config.source)
      await watcher!.start()
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
      const resolve = new Set([...changes.targets.added, ...changes.targets.changed])
      if (sshConnections === undefined && resolve.size > 0) sshConnections = openSshConnections(c, logger, sshControlParent)
      const defs: ResolvedTarget[] = c.targets.map((t) => resolve.has(t.name)
        ? resolveTarget(t, next.secrets.get(t.name), sshConnections, nextSshKey++)
        : targetDefs.get(t.name)!)
      const done = engine.reconfigure(engineOptions(c), defs)
      targetDefs = new Map(defs.map((d) => [d.name, d]))
      watcher!.reconfigure({ excludes: [...meshExcludes(c), ...c.exclude], logLevel: c.logLevel })
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
      closing ??= (async () => {
        await stopWatching()
        // Read now: a reload may have changed it since the start.
        const drainMs = current.config.shutdown.drainSec * 1000
        let timer: NodeJS.Timeout | undefined
        const drained = await Promise.race([
          engine.close().then(() => true),
          new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), drainMs) }),
        ])
        clearTimeout(timer)
        if (!drained) {
          logger.warn({ drainMs }, 'running rsyncs did not finish in time; stopping them')
          // Closing the masters ends the remote side of runs that went through them.
          await Promise.all([engine.destroy(), closeSsh()])
        } else {
          await closeSsh()
        }
        await closeLookup()
        await closeApi()
        closeDatabase()
      })()
      return closing
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
      destroying ??= (async () => {
        const released = Promise.all([engine.destroy(), mesh?.destroy(), stopWatching(), closeSsh()]).then(() => closeLookup())
        let timer: NodeJS.Timeout | undefined
        await Promise.race([released, new Promise((resolve) => { timer = setTimeout(resolve, ABORT_WAIT_MS) })])
        clearTimeout(timer)
        await closeApi()
        closeDatabase()
      })()
      return destroying
    },
  }
}

/** How long destroy() waits for the watcher thread and the stopped runs before it closes the database. */
const ABORT_WAIT_MS = 2_000

/** Between runs the source root is looked at this often (runs look for themselves): a fault is seen within 2 s. */
const SOURCE_POLL_MS = 500

/** On a mesh node, syncplane's own directory at the top of the tree (staging, holds, trash) is never watched nor sent anywhere. */
function meshExcludes (config: LoadedConfig['config']): string[] {
  return config.mesh === undefined ? [] : [`/${MESH_DIR}/`]
}

/** Only when some SSH target shares its connection; without the directory, runs connect anew. */
function openSshConnections (config: LoadedConfig['config'], logger: Logger, parentDir: string | undefined): SshConnections | undefined {
  const sharing = config.targets.some((t) => parseTargetUrl(t.url).kind === 'ssh' && t.ssh?.controlPersistSec !== 0)
  if (!sharing) return undefined
  const connections = createSshConnections({ logger: logger.child({ component: 'ssh' }), parentDir })
  if ('unavailable' in connections) {
    logger.warn({ reason: connections.unavailable }, 'SSH targets connect anew for every run')
    return undefined
  }
  return connections
}
