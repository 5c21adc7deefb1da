import { buildApp } from './app.js'
import { loadConfigFile, loadServiceConfig, type LoadedConfig } from './config/load.js'
import { ConfigError, RsyncUnavailableError } from './errors.js'
import { createFatalHandler, exitAfterFlush } from './fatal.js'
import { createRootLogger } from './logger.js'
import { createReloader } from './reload.js'
import { probeRsync } from './rsync/version.js'
import { createServices, type Services } from './services.js'

export interface ServeOptions {
  /** YAML config file; without one, the embedded demo default under ./data. */
  configPath?: string | undefined
}

/**
 * The process entry: the only place that reads process.env, installs signal
 * handlers or exits. Everything below it takes what it needs as arguments.
 */
export async function serve (opts: ServeOptions): Promise<void> {
  const root = createRootLogger({ level: 'info', base: { service: 'syncplane' } })
  const { logger } = root
  // From here on a crash anywhere is one JSON line and a non-zero exit, never a bare stack trace.
  const fatal = createFatalHandler({ logger, exit: (code) => process.exit(code) })
  process.on('uncaughtException', (err) => fatal(err, 'uncaughtException'))
  process.on('unhandledRejection', (reason) => fatal(reason, 'unhandledRejection'))
  // Without a handler SIGHUP ends the process (exit 129), which systemd's
  // Restart=on-failure does not restart. One that comes while starting is
  // applied once the service is up.
  let reload: (() => void) | undefined
  let reloadPending = false
  process.on('SIGHUP', () => {
    if (reload === undefined) reloadPending = true
    else reload()
  })
  try {
    const loaded = loadOrExit(opts.configPath)
    root.setLevel(loaded.config.logLevel)
    reload = await run(opts, loaded, root)
    if (reloadPending) reload()
  } catch (err) {
    fatal(err, 'startup')
  }
}

/** Starts the service; returns what SIGHUP does from now on. */
async function run (opts: ServeOptions, loaded: LoadedConfig, root: ReturnType<typeof createRootLogger>): Promise<() => void> {
  const { config } = loaded
  const { logger } = root
  try {
    const version = await probeRsync(config.rsync.binary)
    logger.info({ rsync: version }, 'rsync found')
  } catch (err) {
    if (!(err instanceof RsyncUnavailableError)) throw err
    logger.fatal(err.message)
    process.stderr.write(`syncplane: ${err.message}\n`)
    process.exit(1)
  }

  let services: Services
  try {
    services = createServices({ loaded, logger, env: process.env })
  } catch (err) {
    // Opening, migrating or reading the database at start: a JSON line for the log, a sentence for the operator.
    logger.fatal({ err }, 'failed to open the database')
    process.stderr.write(`syncplane: failed to start: ${(err as Error).message}\n`)
    process.exit(1)
  }
  const app = await buildApp({ services: services.http, logger, trustProxy: config.api.trustProxy, apiToken: loaded.apiToken, meshSecret: loaded.mesh?.secret })
  // From here on services.close() and destroy() close the app too, in their order.
  services.attachApi(app)

  let stopping = false
  let aborted = false
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      aborted = true
      // Unless the drain happens to finish meanwhile, the lifecycle marker
      // stays `running`: the next start mirrors every target.
      logger.warn({ signal }, 'second signal during shutdown: exiting without draining')
      // The running rsyncs get SIGTERM at once, so none outlives the process (their paths stay journaled).
      void services.destroy().then(() => exitAfterFlush(logger, 1, (code) => process.exit(code)))
      return
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    // Read now: a reload may have changed them since the start.
    const { shutdown, rsync } = services.config
    // Backstop: if draining itself hangs, still exit (journaled work survives).
    setTimeout(() => process.exit(1), shutdown.drainSec * 1000 + rsync.killGraceSec * 1000 + 10_000).unref()
    await services.close()
    // The drain that a second signal cut short ends in its exit (1), not in a clean one.
    if (aborted) return
    logger.info('stopped')
    process.exit(0)
  }
  // `on`, not `once`: a second signal must reach the handler above, not Node's default (death by signal).
  process.on('SIGTERM', (s) => { void stop(s) })
  process.on('SIGINT', (s) => { void stop(s) })

  try {
    await app.listen({ host: config.api.host, port: config.api.port })
    await services.start()
  } catch (err) {
    logger.fatal({ err }, 'failed to start')
    process.stderr.write(`syncplane: failed to start: ${(err as Error).message}\n`)
    process.exit(1)
  }

  const configPath = opts.configPath
  const reload = createReloader({
    load: configPath === undefined ? undefined : () => loadConfigFile(configPath, process.env),
    reconfigure: (next) => services.reconfigure(next),
    setLogLevel: (level) => root.setLevel(level),
    logger,
  })
  return () => {
    if (stopping) logger.info('reload requested during shutdown: ignored')
    else reload()
  }
}

function loadOrExit (configPath: string | undefined): LoadedConfig {
  try {
    return loadServiceConfig(configPath, process.env, process.cwd())
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`syncplane: ${err.message}\n`)
    process.exit(2)
  }
}
