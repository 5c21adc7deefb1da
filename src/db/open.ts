import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

export type Db = Database.Database

export function openDatabase (file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true })
  const db = new Database(file, { timeout: 2_000 })
  db.pragma('journal_mode = WAL')
  // A new WAL database still reports FULL on this connection; NORMAL is safe
  // in WAL mode (a power cut may lose the last commits, never corrupt).
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  return db
}
