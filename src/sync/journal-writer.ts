import type { PendingRow, PendingStore } from '../db/pending-store.js'
import type { DatabaseHealthReporter } from '../db/database-health.js'
import { createWriteRetry, type RetryTuning } from '../db/write-retry.js'
import { compactJournalOps, journalOpsSize, type JournalOp } from './journal-compaction.js'

/** Rows written per event-loop turn: about a millisecond of SQLite work. */
const ROWS_PER_TURN = 500

export interface JournalWriterOptions extends RetryTuning {
  /** Hears when writes fail and when the journal has caught up; without it failures only wait and retry. */
  health?: DatabaseHealthReporter
}

export type JournalWriter = ReturnType<typeof createJournalWriter>

const ignoreHealth: DatabaseHealthReporter = { failed: () => undefined, recovered: () => undefined }

/**
 * Writes the pending journal in the order the engine decided, a slice per
 * event-loop turn, so that a burst of ten thousand paths does not hold the
 * loop (and every /healthz probe) for the tens of milliseconds one
 * transaction over all of them takes. The memory state stays the truth; the
 * journal trails it by a few turns, and an unclean stop is answered by a
 * recovery mirror anyway.
 *
 * When the database fails (a full disk), nothing is dropped: the queue is
 * kept, folded so it holds each path once, and written after a wait that
 * grows with each failure, until the journal has caught up.
 */
export function createJournalWriter (journal: PendingStore, opts: JournalWriterOptions = {}) {
  let queue: JournalOp[] = []

  /** Applies queued operations in order, up to `budget` rows; takes from the queue only what was written. */
  const write = (budget: number): boolean => {
    while (queue.length > 0 && budget > 0) {
      const op = queue[0]!
      if (op.kind === 'upsert' || op.kind === 'remove') {
        const list: unknown[] = op.kind === 'upsert' ? op.rows : op.entries
        const n = Math.min(budget, list.length)
        const slice = n === list.length ? list : list.slice(0, n)
        if (op.kind === 'upsert') journal.upsert(slice as PendingRow[])
        else journal.remove(op.target, slice as Array<{ path: string; seq: number }>)
        list.splice(0, n)
        budget -= n
        if (list.length > 0) return false
      } else {
        if (op.kind === 'removeUpTo') journal.removeUpTo(op.target, op.seq)
        else journal.removeTarget(op.target)
        budget -= 1
      }
      queue.shift()
    }
    return queue.length === 0
  }

  const retry = createWriteRetry({
    writer: 'journal',
    doing: 'writing the journal',
    health: opts.health ?? ignoreHealth,
    write,
    budget: ROWS_PER_TURN,
    onFailure: () => { queue = compactJournalOps(queue) },
    tuning: opts,
  })

  return {
    upsert (row: PendingRow): void {
      const last = queue.at(-1)
      if (last?.kind === 'upsert') last.rows.push(row)
      else queue.push({ kind: 'upsert', rows: [row] })
      retry.soon()
    },
    remove (target: string, entries: Array<{ path: string; seq: number }>): void {
      if (entries.length === 0) return
      queue.push({ kind: 'remove', target, entries })
      retry.soon()
    },
    removeUpTo (target: string, seq: number): void {
      queue.push({ kind: 'removeUpTo', target, seq })
      retry.soon()
    },
    removeTarget (target: string): void {
      // Rows of this target still queued would only be deleted again.
      for (const op of queue) if (op.kind === 'upsert') op.rows = op.rows.filter((r) => r.target !== target)
      queue.push({ kind: 'removeTarget', target })
      retry.soon()
    },
    /**
     * Writes everything queued now (shutdown) and stops retrying. False when
     * the database refused: the journal then lacks changes, which only a
     * recovery mirror at the next start repairs.
     */
    flush (): boolean {
      return retry.flush()
    },
    /** Queued rows and statements not written yet. */
    backlog (): number {
      return journalOpsSize(queue)
    },
  }
}
