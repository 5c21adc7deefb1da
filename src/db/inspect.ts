import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { listMigrations, MIGRATIONS_DIR, schemaTooNew } from './migrate.js'

/** What `check` learns of the database file, or why the service could not use it. */
export type DatabaseInspection =
  | { ok: true, exists: false, createdIn: string }
  | { ok: true, exists: true, version: number, latest: number }
  | { ok: false, problem: string }

/**
 * Whether the service could open, migrate and write `file`, changing
 * nothing: no database or directory is created, no migration applied, no
 * journal mode set (SQLite's own -wal and -shm files may come and go). A write transaction is begun and rolled back, since
 * SQLite opens a file it cannot write read-only without a word, and on a
 * read-only filesystem a WAL database does not open at all.
 */
export function inspectDatabase (file: string, migrationsDir: string = MIGRATIONS_DIR): DatabaseInspection {
  const latest = listMigrations(migrationsDir).length
  let stat
  try {
    stat = statSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { ok: false, problem: `cannot stat ${file}: ${errorText(err)}` }
    return nearestDirectory(path.dirname(file))
  }
  if (!stat.isFile()) return { ok: false, problem: `${file} is not a regular file` }
  // WAL mode keeps -wal and -shm files beside the database.
  const dir = path.dirname(file)
  const unwritable = notWritable(dir) ?? notWritable(file)
  if (unwritable !== undefined) return { ok: false, problem: unwritable }
  let db: Database.Database | undefined
  try {
    db = new Database(file, { fileMustExist: true, timeout: 2_000 })
    const version = db.pragma('user_version', { simple: true }) as number
    // Reads the schema: a file that is not SQLite fails here, not at open.
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    db.exec('BEGIN IMMEDIATE')
    db.exec('ROLLBACK')
    if (version > latest) return { ok: false, problem: schemaTooNew(version, latest).message }
    return { ok: true, exists: true, version, latest }
  } catch (err) {
    const code = (err as { code?: string }).code
    const busy = code === 'SQLITE_BUSY' ? ' (another process holds its write lock: a syncplane already running on it?)' : ''
    return { ok: false, problem: `cannot use ${file} as a SQLite database: ${errorText(err)}${busy}` }
  } finally {
    db?.close()
  }
}

/** A missing database is created at start, with its missing directories: the nearest existing one must be writable. */
function nearestDirectory (dir: string): DatabaseInspection {
  try {
    if (!statSync(dir).isDirectory()) return { ok: false, problem: `${dir} is not a directory` }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && path.dirname(dir) !== dir) return nearestDirectory(path.dirname(dir))
    return { ok: false, problem: `cannot stat ${dir}: ${errorText(err)}` }
  }
  const unwritable = notWritable(dir)
  return unwritable === undefined ? { ok: true, exists: false, createdIn: dir } : { ok: false, problem: unwritable }
}

function notWritable (p: string): string | undefined {
  try {
    accessSync(p, constants.W_OK)
    return undefined
  } catch (err) {
    return `${p} is not writable: ${errorText(err)}`
  }
}

function errorText (err: unknown): string {
  const { code, message } = err as { code?: string, message?: string }
  return message !== undefined && code !== undefined && !message.includes(code) ? `${message} (${code})` : (message ?? String(err))
}
