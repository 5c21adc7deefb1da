import type { PendingRow, PendingStore } from '../db/pending-store.js'

type JournalOp =
  | { kind: 'upsert'; rows: PendingRow[] }
  | { kind: 'remove'; target: string; entries: Array<{ path: string; seq: number }> }
  | { kind: 'removeUpTo'; target: string; seq: number }
  | { kind: 'removeTarget'; target: string }

/** Rows written per event-loop turn: about a millisecond of SQLite work. */
const ROWS_PER_TURN = 500

/**
 * Writes the pending journal in the order the engine decided, a slice per
 * event-loop turn, so that a burst of ten thousand paths does not hold the
 * loop (and every /healthz probe) for the tens of milliseconds one
 * transaction over all of them takes. The memory state stays the truth; the
 * journal trails it by a few turns, and an unclean stop is answered by a
 * recovery mirror anyway.
 */
export function createJournalWriter (journal: PendingStore) {
  const queue: JournalOp[] = []
  let scheduled = false

  const schedule = (): void => {
    if (scheduled || queue.length === 0) return
    scheduled = true
    setImmediate(() => {
      scheduled = false
      write(ROWS_PER_TURN)
      schedule()
    })
  }

  /** Applies queued operations in order, up to `budget` rows; splits the last one if needed. */
  const write = (budget: number): void => {
    while (queue.length > 0 && budget > 0) {
      const op = queue[0]!
      if (op.kind === 'upsert' || op.kind === 'remove') {
        const list: unknown[] = op.kind === 'upsert' ? op.rows : op.entries
        const n = Math.min(budget, list.length)
        const slice = list.splice(0, n)
        if (op.kind === 'upsert') journal.upsert(slice as PendingRow[])
        else journal.remove(op.target, slice as Array<{ path: string; seq: number }>)
        budget -= n
        if (list.length > 0) return
      } else {
        if (op.kind === 'removeUpTo') journal.removeUpTo(op.target, op.seq)
        else journal.removeTarget(op.target)
        budget -= 1
      }
      queue.shift()
    }
  }

  return {
    upsert (row: PendingRow): void {
      const last = queue.at(-1)
      if (last?.kind === 'upsert') last.rows.push(row)
      else queue.push({ kind: 'upsert', rows: [row] })
      schedule()
    },
    remove (target: string, entries: Array<{ path: string; seq: number }>): void {
      if (entries.length === 0) return
      queue.push({ kind: 'remove', target, entries })
      schedule()
    },
    removeUpTo (target: string, seq: number): void {
      queue.push({ kind: 'removeUpTo', target, seq })
      schedule()
    },
    removeTarget (target: string): void {
      // Rows of this target still queued would only be deleted again.
      for (const op of queue) if (op.kind === 'upsert') op.rows = op.rows.filter((r) => r.target !== target)
      queue.push({ kind: 'removeTarget', target })
      schedule()
    },
    /** Writes everything queued now (shutdown). */
    flush (): void {
      write(Infinity)
    },
  }
}
