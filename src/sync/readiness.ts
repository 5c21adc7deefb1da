import type { Db } from '../db/open.js'
import type { DatabaseHealthStatus } from '../db/database-health.js'
import type { WatcherState, WatcherStatus } from '../watcher/watcher.js'

export interface Readiness {
  ready: boolean
  checks: {
    watcher: { ok: boolean; state: WatcherState; detail: string | null }
    database: { ok: boolean; detail: string | null }
    lag: { ok: boolean; detail: string | null }
    mesh?: { ok: boolean; detail: string | null }
  }
}

/**
 * Ready = the watcher is established, the database answers and takes every
 * write, and (with maxLagSec) no target lags further behind than the
 * operator tolerates.
 */
export function createReadiness (deps: {
  db: Db
  database: () => DatabaseHealthStatus
  watcherStatus: () => WatcherStatus
  targetLagsMs: () => Array<{ name: string; lagMs: number }>
  maxLagSec: number
  /** On a mesh node: its peers (their lag counts with the targets') and held deletions. */
  mesh?: (() => { peers: Array<{ name: string; lagMs: number; reachable: boolean | null; owed: number }>; deletesHeld: { count: number } | null }) | undefined
}) {
  const ping = deps.db.prepare('SELECT 1')
  return (): Readiness => {
    const w = deps.watcherStatus()
    const watcher = { ok: w.state === 'running', state: w.state, detail: w.lastError }
    let database: Readiness['checks']['database']
    try {
      ping.get()
      // Reads may work while writes fail (a full disk): those are kept in memory, which is not ready.
      const writes = deps.database()
      database = { ok: writes.state === 'ok', detail: writes.error }
    } catch (err) {
      database = { ok: false, detail: (err as Error).message }
    }
    const mesh = deps.mesh?.()
    let lag: Readiness['checks']['lag'] = { ok: true, detail: null }
    if (deps.maxLagSec > 0) {
      const behind = [...deps.targetLagsMs(), ...(mesh?.peers ?? [])].filter((t) => t.lagMs > deps.maxLagSec * 1000)
      if (behind.length > 0) lag = { ok: false, detail: behind.map((t) => `${t.name} lags ${Math.round(t.lagMs / 1000)} s (max ${deps.maxLagSec} s)`).join('; ') }
    }
    if (mesh === undefined) return { ready: watcher.ok && database.ok && lag.ok, checks: { watcher, database, lag } }
    const reached = mesh.peers.filter((p) => p.reachable === true).length
    const owed = mesh.peers.reduce((n, p) => n + p.owed, 0)
    const meshCheck = {
      ok: mesh.deletesHeld === null,
      detail: `${reached} of ${mesh.peers.length} peers reached, ${owed} versions owed${mesh.deletesHeld === null ? '' : `; ${mesh.deletesHeld.count} local deletions held until an operator confirms them`}`,
    }
    return { ready: watcher.ok && database.ok && lag.ok && meshCheck.ok, checks: { watcher, database, lag, mesh: meshCheck } }
  }
}
