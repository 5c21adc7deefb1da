import type { Db } from '../db/open.js'
import type { WatcherStatus } from '../watcher/watcher.js'

export interface Readiness {
  ready: boolean
  checks: {
    watcher: { ok: boolean; state: string; detail: string | null }
    database: { ok: boolean; detail: string | null }
  }
}

/** Ready = the watcher is established and the database answers. */
export function createReadiness (deps: { db: Db; watcherStatus: () => WatcherStatus }) {
  const ping = deps.db.prepare('SELECT 1')
  return (): Readiness => {
    const w = deps.watcherStatus()
    const watcher = { ok: w.state === 'running', state: w.state, detail: w.lastError }
    let database: Readiness['checks']['database']
    try {
      ping.get()
      database = { ok: true, detail: null }
    } catch (err) {
      database = { ok: false, detail: (err as Error).message }
    }
    return { ready: watcher.ok && database.ok, checks: { watcher, database } }
  }
}
