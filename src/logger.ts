import { pino, type Logger, type LevelWithSilent } from 'pino'

export interface RootLogger {
  logger: Logger
  /** Sets the level of the root and of every child logger that follows it. */
  setLevel (level: LevelWithSilent): void
}

/**
 * The service's root logger. A pino child takes its parent's level when it
 * is made and keeps it: every component holds a child, so a level set on
 * the root alone would change almost nothing. Children that follow the
 * root are remembered (weakly: the HTTP layer makes one per request) and
 * set along with it; a child made with a level of its own (a route's
 * `logLevel`) keeps that.
 */
export function createRootLogger (opts: { level: LevelWithSilent; base?: Record<string, unknown> }): RootLogger {
  const following = new Set<WeakRef<Logger>>()
  const forget = new FinalizationRegistry<WeakRef<Logger>>((ref) => following.delete(ref))
  const logger = pino({
    level: opts.level,
    base: opts.base,
    onChild (child) {
      const parent = Object.getPrototypeOf(child) as Logger
      if (child.level !== parent.level) return
      const ref = new WeakRef(child)
      following.add(ref)
      forget.register(child, ref)
    },
  })
  return {
    logger,
    setLevel (level) {
      logger.level = level
      for (const ref of following) {
        const child = ref.deref()
        if (child !== undefined) child.level = level
      }
    },
  }
}
