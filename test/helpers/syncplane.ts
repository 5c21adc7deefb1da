import { Writable } from 'node:stream'
import path from 'node:path'
import { mkdir } from 'node:fs/promises'
import { pino } from 'pino'
import { buildApp, type App } from '../../src/app.js'
import { parseConfig } from '../../src/config/load.js'
import { createServices, type Services } from '../../src/services.js'
import type { RsyncRunner } from '../../src/rsync/runner.js'
import { makeTempDir, type TempDir } from './temp-dir.js'
import { startTarget, type TargetKind, type TestTarget } from './targets.js'
import type { Teardown } from './teardown.js'

export interface SyncplaneHarness {
  app: App
  services: Services
  source: string
  /** Every log line the service wrote, as JSON text. */
  logs: string[]
  /**
   * Stops the service the way SIGTERM does; the database file stays. The
   * test's end does it anyway: a test calls it to start another service
   * on the same database.
   */
  close (): Promise<void>
}

export interface HarnessOptions {
  targets: Array<Record<string, unknown>>
  env?: Record<string, string>
  /** Merged over the generated config (source, database, targets). */
  config?: Record<string, unknown>
  runner?: RsyncRunner
  /** Skip services.start(): for tests that want the app before the watch. */
  start?: boolean
  /** Where the service makes its directory of SSH control sockets. */
  sshControlParent?: string
}

/**
 * The real service in-process: real SQLite file, real watcher, real rsync,
 * HTTP through app.inject. Logs are captured so tests can search them.
 * Its source and database are in the test's directory; it is closed when
 * the test ends, however it ends.
 */
export async function startSyncplane (tmp: TempDir, opts: HarnessOptions): Promise<SyncplaneHarness> {
  const source = path.join(tmp.path, 'source')
  await mkdir(source, { recursive: true })
  const raw = {
    source,
    database: path.join(tmp.path, 'syncplane.db'),
    logLevel: 'debug',
    // What close() gives running rsyncs before it stops them.
    shutdown: { drainSec: 5 },
    targets: opts.targets,
    ...opts.config,
  }
  const env = opts.env ?? {}
  const loaded = parseConfig(raw, { env, baseDir: tmp.path, origin: 'test config' })
  const logs: string[] = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
      done()
    },
  })
  const logger = pino({ level: loaded.config.logLevel }, sink)
  // A test file starts many services in one process, where the parcel addon can load in one thread only.
  const services = createServices({ loaded, logger, env: { ...process.env, ...env }, runner: opts.runner, watcherThread: false, lookupThread: false, sshControlParent: opts.sshControlParent })
  tmp.after(() => services.close())
  const app = await buildApp({ services: services.http, logger, trustProxy: loaded.config.api.trustProxy, apiToken: loaded.apiToken })
  services.attachApi(app)
  await app.ready()
  if (opts.start !== false) await services.start()
  return {
    app,
    services,
    source,
    logs,
    close: () => services.close(),
  }
}

export interface OneTargetOptions extends Omit<HarnessOptions, 'targets'> {
  /** The target's name (its kind by default). */
  name?: string
  /** Lines for the daemon's module section. */
  moduleOptions?: string[]
}

/** What most tests start with: a new directory, one target of `kind` in it, and the service replicating to it. */
export async function startSyncplaneTo (t: Teardown, kind: TargetKind, opts: OneTargetOptions = {}): Promise<{ tmp: TempDir, target: TestTarget, sp: SyncplaneHarness }> {
  const { name, moduleOptions, ...harness } = opts
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, kind, name, { moduleOptions })
  const sp = await startSyncplane(tmp, { ...harness, targets: [target.config], env: { ...target.env, ...harness.env } })
  return { tmp, target, sp }
}
