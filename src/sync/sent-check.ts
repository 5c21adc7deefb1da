import type { Logger } from 'pino'
import type { EngineTimers } from './engine-types.js'

/**
 * How long after a run its sent names are checked against the source. It
 * must outlast the watcher backend's coalescing window: @parcel/watcher
 * reports a path created and deleted within one batch (up to 500 ms) as
 * nothing at all, so a short-lived file a run happened to copy (a mirror, a
 * directory sent whole, an upload's temp file) would otherwise stay on the
 * target until the next full mirror.
 */
export const SENT_CHECK_DELAY_MS = 1_000

export interface SentCheckDeps {
  timers: EngineTimers
  logger: Logger
  /** Which of `names` are gone from the source now. */
  missingOf: (names: readonly string[]) => Promise<string[]>
  /** Records names found missing as changes: the next runs delete them on every target. */
  recordChanges: (paths: readonly string[]) => void
}

/**
 * A run may have copied an entry that lived only briefly; if the watcher
 * never reported it, only this check gets it deleted from the target.
 */
export function createSentChecks (deps: SentCheckDeps) {
  /** Names runs sent, waiting for their check. */
  const waiting = new Set<{ names: string[]; timer: unknown }>()

  async function check (log: Logger, names: string[]): Promise<void> {
    const missing = await deps.missingOf(names).catch((err: unknown) => {
      log.warn({ err }, 'could not check what a run sent against the source')
      return []
    })
    if (missing.length === 0) return
    log.debug({ paths: missing.length }, 'sent entries gone from the source meanwhile; deleting them on the targets')
    deps.recordChanges(missing)
  }

  return {
    /** Checks `names` a run sent after SENT_CHECK_DELAY_MS. */
    later (log: Logger, names: string[]): void {
      if (names.length === 0) return
      const entry = {
        names,
        timer: deps.timers.setTimeout(() => {
          waiting.delete(entry)
          void check(log, names)
        }, SENT_CHECK_DELAY_MS),
      }
      waiting.add(entry)
    },

    /** Shutdown: checks everything waiting now (the watcher is closed by then, so what is missing is missing). */
    async checkNow (): Promise<void> {
      const entries = [...waiting]
      waiting.clear()
      for (const e of entries) deps.timers.clearTimeout(e.timer)
      await Promise.all(entries.map((e) => check(deps.logger, e.names)))
    },
  }
}
