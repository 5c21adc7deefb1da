import { mkdirSync } from 'node:fs'
import { pino } from 'pino'
import { buildApp } from './app.js'
import { ConfigError, demoConfig, loadConfigFile, parseConfig, type LoadedConfig } from './config/load.js'
import { probeRsync, RsyncUnavailableError } from './rsync/version.js'
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
  const loaded = loadOrExit(opts.configPath)
  const { config } = loaded
  const logger = pino({ level: config.logLevel, base: { service: 'syncplane' } })

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
  const app = await buildApp({ services: services.http, logger, trustProxy: config.api.trustProxy, apiToken: loaded.apiToken })

  let stopping = false
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without draining')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, 'shutting down')
    const drainMs = config.shutdown.drainSec * 1000
    // Backstop: if draining itself hangs, still exit (journaled work survives).
    setTimeout(() => process.exit(1), drainMs + config.rsync.killGraceSec * 1000 + 10_000).unref()
    await services.stop(drainMs)
    await app.close()
    services.closeDatabase()
    logger.info('stopped')
    process.exit(0)
  }
  process.once('SIGTERM', (s) => void stop(s))
  process.once('SIGINT', (s) => void stop(s))

  try {
    await app.listen({ host: config.api.host, port: config.api.port })
    await services.start()
  } catch (err) {
    logger.fatal({ err }, 'failed to start')
    process.stderr.write(`syncplane: failed to start: ${(err as Error).message}\n`)
    process.exit(1)
  }
}

function loadOrExit (configPath: string | undefined): LoadedConfig {
  try {
    if (configPath !== undefined) return loadConfigFile(configPath, process.env)
    const raw = demoConfig(process.cwd())
    mkdirSync(raw.source as string, { recursive: true })
    mkdirSync((raw.targets as Array<{ url: string }>)[0]!.url, { recursive: true })
    return parseConfig(raw, { env: process.env, baseDir: process.cwd(), origin: 'the embedded demo config' })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`syncplane: ${err.message}\n`)
    process.exit(2)
  }
}

