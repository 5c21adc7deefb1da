import type { Db } from './open.js'

export type SettingsStore = ReturnType<typeof createSettingsStore>

export function createSettingsStore (db: Db) {
  const select = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?')
  const remove = db.prepare('DELETE FROM settings WHERE key = ?')
  const upsert = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
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
  }
}
