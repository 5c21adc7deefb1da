import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createMeshStore } from '../../src/db/mesh-store.js'
import { createHybridClock } from '../../src/mesh/clock.js'
import { createLocalChanges, type LocalChanges, type ScanResult } from '../../src/mesh/local-changes.js'
import { createApplyBatch, type ApplyBatch, type ApplyOptions } from '../../src/mesh/apply-batch.js'
import { makeTempDir } from './temp-dir.js'
import type { Teardown } from './teardown.js'

/**
 * One mesh node's receiving side in process, on a real directory: its tree,
 * store (SQLite in memory), clock and local scans, torn down with the test.
 * `applier(over)` makes its applier; by default nothing is displaced for
 * long enough to matter (no timer runs, no writer is looked for): tests of
 * displaced files pass their own `recheck` and `openForWrite`.
 */
export async function createMeshReceiver (t: Teardown, { self, peers, prefix }: { self: string, peers: readonly string[], prefix: string }) {
  const tmp = await makeTempDir(t, prefix)
  const root = path.join(tmp.path, 'tree')
  await mkdir(root)
  const db = openDatabase(':memory:')
  tmp.after(() => db.close())
  migrate(db)
  const store = createMeshStore(db)
  const clock = createHybridClock(Date.now, 0)
  const logger = pino({ level: 'silent' })
  const local = createLocalChanges({ root, self, store, clock, peers: () => peers, isExcluded: () => false, mayDelete: () => true, sourceFault: () => null, logger })
  const applier = (over: Partial<ApplyOptions> = {}): ApplyBatch => createApplyBatch({
    root, self, store, clock, local, logger, recheck: () => undefined, onConflict: () => undefined, openForWrite: async () => new Set(), ...over,
  })
  return { root, store, clock, logger, local, applier }
}

/** Reads the whole tree against the rows at once, as the intake does a slice at a time; what it found. */
export function walkWholeTree (local: LocalChanges): ScanResult {
  const walk = local.walkTree()
  while (!walk.step(Infinity));
  return walk.result
}
