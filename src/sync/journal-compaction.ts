import type { PendingRow } from '../db/pending-store.js'

export type JournalOp =
  | { kind: 'upsert'; rows: PendingRow[] }
  | { kind: 'remove'; target: string; entries: Array<{ path: string; seq: number }> }
  | { kind: 'removeUpTo'; target: string; seq: number }
  | { kind: 'removeTarget'; target: string }

/** A remove that deletes the row whatever its seq (SQLite compares it as an integer). */
const ANY_SEQ = Number.MAX_SAFE_INTEGER

type PathOp = { row: PendingRow } | { deleteUpTo: number }

interface TargetOps {
  /** Applied first: every row, or every row up to a seq. */
  range: { all: true } | { all: false; seq: number } | null
  /** Then, per path, the last word on it. */
  paths: Map<string, PathOp>
}

/**
 * Folds a queue of journal operations into at most three per target (a range
 * delete, the upserts, the removes) with the same effect on the journal,
 * except that a re-inserted row may carry a later observedAt.
 *
 * While the database fails the queue only grows: every change appends a row
 * and every delivery a remove. Folded, it holds each path once, so an outage
 * of hours costs memory for the paths that changed, not for every change.
 */
export function compactJournalOps (ops: readonly JournalOp[]): JournalOp[] {
  const byTarget = new Map<string, TargetOps>()
  const of = (target: string): TargetOps => {
    let t = byTarget.get(target)
    if (t === undefined) byTarget.set(target, t = { range: null, paths: new Map() })
    return t
  }
  // A delete of rows up to `seq`, after what is already folded for one path.
  const deleteAfter = (t: TargetOps, path: string, current: PathOp | undefined, seq: number): void => {
    if (current === undefined) t.paths.set(path, { deleteUpTo: seq })
    else if ('row' in current) {
      // The upsert left the row at its own seq: it goes if that is covered.
      if (current.row.seq <= seq) t.paths.set(path, { deleteUpTo: ANY_SEQ })
    } else current.deleteUpTo = Math.max(current.deleteUpTo, seq)
  }

  for (const op of ops) {
    switch (op.kind) {
      case 'upsert':
        for (const r of op.rows) {
          const t = of(r.target)
          const current = t.paths.get(r.path)
          // ON CONFLICT keeps the observedAt the row had.
          t.paths.set(r.path, { row: current !== undefined && 'row' in current ? { ...r, observedAt: current.row.observedAt } : r })
        }
        break
      case 'remove': {
        const t = of(op.target)
        for (const e of op.entries) deleteAfter(t, e.path, t.paths.get(e.path), e.seq)
        break
      }
      case 'removeUpTo': {
        const t = of(op.target)
        if (t.range === null) t.range = { all: false, seq: op.seq }
        else if (!t.range.all) t.range.seq = Math.max(t.range.seq, op.seq)
        for (const [path, current] of t.paths) deleteAfter(t, path, current, op.seq)
        break
      }
      case 'removeTarget': {
        const t = of(op.target)
        t.range = { all: true }
        t.paths.clear()
        break
      }
    }
  }

  const out: JournalOp[] = []
  for (const [target, t] of byTarget) {
    if (t.range !== null) out.push(t.range.all ? { kind: 'removeTarget', target } : { kind: 'removeUpTo', target, seq: t.range.seq })
    const rows: PendingRow[] = []
    const entries: Array<{ path: string; seq: number }> = []
    for (const [path, p] of t.paths) {
      if ('row' in p) rows.push(p.row)
      else entries.push({ path, seq: p.deleteUpTo })
    }
    if (rows.length > 0) out.push({ kind: 'upsert', rows })
    if (entries.length > 0) out.push({ kind: 'remove', target, entries })
  }
  return out
}

/** Rows (or statements) a queue still has to write. */
export function journalOpsSize (ops: readonly JournalOp[]): number {
  let n = 0
  for (const op of ops) n += op.kind === 'upsert' ? op.rows.length : op.kind === 'remove' ? op.entries.length : 1
  return n
}
