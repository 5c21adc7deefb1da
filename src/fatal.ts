import { inspect } from 'node:util'
import type { Logger } from 'pino'
import { NonError } from './errors.js'

/** Where a fatal error came from: the process's two last-resort events, or the start itself. */
export type FatalOrigin = 'uncaughtException' | 'unhandledRejection' | 'startup'

/** The exit code of a crash: anything but 2 (an invalid configuration, which a supervisor must not retry). */
export const CRASH_EXIT_CODE = 1

/** A process that cannot flush its log this fast exits without the last lines. */
const FLUSH_TIMEOUT_MS = 2_000

/**
 * What the entry point installs for an uncaught exception or an unhandled
 * rejection: one JSON line with the error serialized, then a non-zero exit,
 * so a supervisor restarts the process. Nothing is drained or marked
 * stopped: the state may be anything by now, and the database keeps saying
 * the engine was running, so the next start mirrors every target.
 */
export function createFatalHandler (deps: { logger: Logger; exit: (code: number) => void }) {
  let dying = false
  return (thrown: unknown, origin: FatalOrigin): void => {
    const err = thrown instanceof Error ? thrown : new NonError(inspect(thrown))
    try {
      deps.logger.fatal({ err, origin }, origin === 'startup' ? 'failed to start' : `${origin}: exiting`)
    } finally {
      // A second failure while the first line is being written ends it at once.
      if (dying) deps.exit(CRASH_EXIT_CODE)
      else exitAfterFlush(deps.logger, CRASH_EXIT_CODE, deps.exit)
      dying = true
    }
  }
}

/**
 * Exits once the log lines written so far are out. pino writes stdout
 * asynchronously, and a line still on its way when the process exits can
 * be lost; a stuck stdout only delays the exit by FLUSH_TIMEOUT_MS.
 */
export function exitAfterFlush (logger: Logger, code: number, exit: (code: number) => void): void {
  let exited = false
  const once = (): void => {
    if (exited) return
    exited = true
    exit(code)
  }
  setTimeout(once, FLUSH_TIMEOUT_MS)
  try {
    logger.flush(() => once())
  } catch {
    once()
  }
}
