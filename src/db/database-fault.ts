import Database from 'better-sqlite3'

/**
 * SQLite result codes that say the database cannot be written or read at
 * the moment: a full disk, an I/O error, a lock, a read-only or damaged file.
 * They come from the machine, not from our SQL, and may pass.
 */
const FAULT = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|CORRUPT|NOTADB|NOMEM|PROTOCOL|NOLFS|PERM|AUTH)(_|$)/

export function isDatabaseFault (err: unknown): err is InstanceType<typeof Database.SqliteError> {
  return err instanceof Database.SqliteError && FAULT.test(err.code)
}

/** "database or disk is full (SQLITE_FULL) writing the journal" */
export function describeDatabaseError (err: unknown, doing: string): string {
  const message = err instanceof Error ? err.message : String(err)
  const code = (err as { code?: unknown } | null)?.code
  return `${message}${typeof code === 'string' ? ` (${code})` : ''} ${doing}`
}
