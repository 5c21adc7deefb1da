import type { Db } from './open.js'

export interface PendingRow {
  target: string
  path: string
  seq: number
  observedAt: number
}

export type PendingStore = ReturnType<typeof createPendingStore>

/**
 * The durable journal of changes a target has not confirmed yet. Writes come
 * in batches (one transaction per flush), never one per watcher event.
 */
export function createPendingStore (db: Db) {
  const upsertStmt = db.prepare(`
    INSERT INTO pending (target, path, seq, observed_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (target, path) DO UPDATE SET seq = excluded.seq`)
  const deleteStmt = db.prepare('DELETE FROM pending WHERE target = ? AND path = ? AND seq <= ?')
  const deleteTarget = db.prepare('DELETE FROM pending WHERE target = ?')
  const deleteUpTo = db.prepare('DELETE FROM pending WHERE target = ? AND seq <= ?')
  const selectAll = db.prepare<[], { target: string; path: string; seq: number; observed_at: number }>(
    'SELECT target, path, seq, observed_at FROM pending')
  const maxSeq = db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM pending')

  const upsert = db.transaction((rows: readonly PendingRow[]) => {
    for (const r of rows) upsertStmt.run(r.target, r.path, r.seq, r.observedAt)
  })
  const remove = db.transaction((target: string, entries: readonly { path: string; seq: number }[]) => {
    for (const e of entries) deleteStmt.run(target, e.path, e.seq)
  })

  return {
    upsert,
    /** Removes entries whose journaled seq is not newer than the one delivered. */
    remove,
    removeTarget (target: string): void {
      deleteTarget.run(target)
    },
    /** After a full mirror: every change it read from the source is delivered. */
    removeUpTo (target: string, seq: number): void {
      deleteUpTo.run(target, seq)
    },
    loadAll (): PendingRow[] {
      return selectAll.all().map((r) => ({ target: r.target, path: r.path, seq: r.seq, observedAt: r.observed_at }))
    },
    maxSeq (): number {
      return maxSeq.get()?.seq ?? 0
    },
  }
}
