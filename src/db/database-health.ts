import type { Logger } from 'pino'
import { describeDatabaseError } from './database-fault.js'

/** The parts that write the database on their own schedule and keep what they could not write. */
export type DatabaseWriter = 'journal' | 'jobs' | 'settings'

/** `failing`: some writes are kept in memory and retried. The one list the API schema derives from. */
export const DATABASE_STATES = ['ok', 'failing'] as const

export interface DatabaseHealthStatus {
  state: typeof DATABASE_STATES[number]
  /** What failed first among the writers still behind, e.g. "database or disk is full (SQLITE_FULL) writing the journal". */
  error: string | null
  /** Since when (epoch ms) some write has been failing. */
  since: number | null
}

export interface DatabaseHealthReporter {
  /** A write failed; what it had to write is kept and retried by the caller. */
  failed (writer: DatabaseWriter, doing: string, err: unknown): void
  /** Everything `writer` had kept is written now. */
  recovered (writer: DatabaseWriter): void
}

export type DatabaseHealth = ReturnType<typeof createDatabaseHealth>

/**
 * The one place that knows whether the database keeps up. Writers report
 * each failure and their recovery; the service logs the change of state once
 * (a full disk fails every write, and a line per write would flood the log),
 * and the readiness probe and /v1/status read it from here.
 */
export function createDatabaseHealth (deps: { logger: Logger; now?: () => number }) {
  const now = deps.now ?? Date.now
  const behind = new Map<DatabaseWriter, string>()
  let since: number | null = null

  return {
    failed (writer: DatabaseWriter, doing: string, err: unknown): void {
      const error = describeDatabaseError(err, doing)
      behind.set(writer, error)
      if (since !== null) return
      since = now()
      deps.logger.error({ err, writer }, `database failing: ${error}; changes keep replicating from memory and are written once it recovers`)
    },

    recovered (writer: DatabaseWriter): void {
      if (!behind.delete(writer) || behind.size > 0 || since === null) return
      deps.logger.info({ failedForMs: now() - since }, 'database recovered; everything kept in memory is written')
      since = null
    },

    status (): DatabaseHealthStatus {
      const first = behind.values().next()
      return first.done === true ? { state: 'ok', error: null, since: null } : { state: 'failing', error: first.value, since }
    },
  } satisfies DatabaseHealthReporter & Record<string, unknown>
}
