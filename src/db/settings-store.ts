import type { Db } from './open.js'

/** What the engine reads and writes: small durable flags by key. */
export interface SettingsStore {
  get (key: string): string | undefined
  set (key: string, value: string): void
  delete (key: string): void
}

export type SettingsTable = ReturnType<typeof createSettingsStore>

export function createSettingsStore (db: Db) {
  const select = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
  const remove = db.prepare('DELETE FROM settings WHERE key = ?')
  const upsert = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
  const writeAll = db.transaction((changes: ReadonlyMap<string, string | null>) => {
    for (const [key, value] of changes) {
      if (value === null) remove.run(key)
      else upsert.run(key, value)
    }
  })
  return {
    get (key: string): string | undefined {
      return select.get(key)?.value
    },
    set (key: string, value: string): void {
      upsert.run(key, value)
    },
    delete (key: string): void {
      remove.run(key)
    },
    /** Sets (a string) or deletes (null) several keys, all or none. */
    writeAll (changes: ReadonlyMap<string, string | null>): void {
      writeAll(changes)
    },
  }
}
