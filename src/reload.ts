import type { LevelWithSilent, Logger } from 'pino'
import { ConfigError } from './errors.js'
import type { LoadedConfig } from './config/load.js'
import type { ReconfigureOutcome } from './services.js'

export interface ReloaderDeps {
  /** Reads and validates the configuration file again; undefined when there is none (the embedded demo). */
  load: (() => LoadedConfig) | undefined
  reconfigure: (next: LoadedConfig) => ReconfigureOutcome
  setLogLevel: (level: LevelWithSilent) => void
  logger: Logger
}

/**
 * What SIGHUP does, as with nginx or lsyncd: the file is read and checked
 * again and applied while replication goes on. A file that does not load,
 * or that changes a key only a restart can apply, is refused whole and the
 * running configuration stays; every outcome is one log line.
 */
export function createReloader (deps: ReloaderDeps): () => void {
  const { logger } = deps
  return () => {
    if (deps.load === undefined) {
      logger.info('reload requested: nothing to reload, this is the embedded demo configuration (no --config file)')
      return
    }
    let next: LoadedConfig
    try {
      next = deps.load()
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      logger.error({ problems: err.problems }, `configuration reload refused, the running configuration stays: ${err.problems.join('; ')}`)
      return
    }
    const outcome = deps.reconfigure(next)
    const { keys, restartOnly, targets } = outcome.changes
    if (!outcome.applied) {
      logger.error({ restartOnly }, `configuration reload refused, nothing applied: ${restartOnly.join(', ')} cannot change while running (restart syncplane to apply the file)`)
      return
    }
    const nothing = keys.length === 0 && targets.added.length + targets.removed.length + targets.changed.length === 0
    const summarize = (): void => logger.info({ changed: keys, targets, mirrorOwed: outcome.engine.mirrorOwed }, nothing ? 'configuration reloaded: nothing changed' : 'configuration reloaded')
    // The summary goes out under the more talkative of the two levels.
    if (logger.isLevelEnabled('info')) {
      summarize()
      deps.setLogLevel(next.config.logLevel)
    } else {
      deps.setLogLevel(next.config.logLevel)
      summarize()
    }
  }
}
