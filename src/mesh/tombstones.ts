import type { Logger } from 'pino'
import type { MeshStore } from '../db/mesh-store.js'

/** How often deletions old enough to forget are looked for. */
const SWEEP_EVERY_MS = 3_600_000
/** Rows dropped per statement, the thread yielded between: a large first sweep never holds it long. */
const SLICE = 5_000

export interface TombstoneSweepOptions {
  store: MeshStore
  /** mesh.tombstoneDays; 0: remembered forever. */
  days: number
  now: () => number
  logger: Logger
}

/**
 * A deletion stays a row (a tombstone) so that a peer's older version of the
 * path is known as old. Once every peer has acknowledged it (no outbox row
 * names the path) and it is `days` old (by the deleting node's clock), the
 * row goes: every peer had the deletion, and every version made later has a
 * counter from its node's clock (bumpVector), so it is news to a peer still
 * keeping the tombstone, never old. Without the row, a deletion arriving
 * again (a peer's repair) is recorded again and forgotten again.
 */
export function createTombstoneSweep (opts: TombstoneSweepOptions) {
  let last = -Infinity
  let running = false

  async function sweep (): Promise<number> {
    const before = opts.now() - opts.days * 86_400_000
    let forgotten = 0
    for (;;) {
      const n = opts.store.forgetTombstones(before, SLICE)
      forgotten += n
      if (n < SLICE) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (forgotten > 0) opts.logger.info({ forgotten, days: opts.days }, 'forgot deletions every peer has had for mesh.tombstoneDays')
    return forgotten
  }

  return {
    sweep,
    /** A sweep when the last one is an hour old (called on the rescan timer). */
    due (): void {
      if (opts.days === 0 || running || opts.now() - last < SWEEP_EVERY_MS) return
      last = opts.now()
      running = true
      sweep()
        .catch((err) => opts.logger.warn({ err }, 'forgetting old deletions failed; tried again in an hour'))
        .finally(() => { running = false })
    },
  }
}
