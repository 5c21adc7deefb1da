import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { InternalError } from '../errors.js'
import { packageFile } from '../package-dir.js'
import type { Db } from './open.js'

export const MIGRATIONS_DIR = fileURLToPath(packageFile('migrations/'))

const FILE = /^(\d{4})-[a-z0-9-]+\.sql$/

export interface MigrationResult { from: number; to: number }

/**
 * Applies `NNNN-name.sql` files above `PRAGMA user_version`, each in its own
 * transaction together with the version bump, so a failed file leaves the
 * database at the previous version.
 */
export function migrate (db: Db, dir: string = MIGRATIONS_DIR): MigrationResult {
  const files = listMigrations(dir)
  const from = db.pragma('user_version', { simple: true }) as number
  const latest = files.length
  if (from > latest) throw schemaTooNew(from, latest)
  for (const f of files.slice(from)) {
    const sql = readFileSync(f.file, 'utf8')
    db.transaction(() => {
      db.exec(sql)
      // PRAGMA takes no bound parameters; version is an integer we parsed.
      db.pragma(`user_version = ${f.version}`)
    })()
  }
  return { from, to: latest }
}

/** The migration files in order; their count is the schema version this release writes. */
export function listMigrations (dir: string = MIGRATIONS_DIR): Array<{ version: number, file: string }> {
  const files = readdirSync(dir)
    .filter((f) => FILE.test(f))
    .map((f) => ({ version: Number(FILE.exec(f)![1]), file: path.join(dir, f) }))
    .sort((a, b) => a.version - b.version)
  files.forEach((f, i) => {
    if (f.version !== i + 1) throw new InternalError('SP_MIGRATIONS_MISNUMBERED', `migrations must be numbered 0001, 0002, … without gaps; found ${path.basename(f.file)}`)
  })
  return files
}

export function schemaTooNew (version: number, latest: number): InternalError {
  return new InternalError('SP_SCHEMA_TOO_NEW', `database schema version ${version} is newer than this syncplane knows (${latest}); refusing to run an older release against it`)
}
