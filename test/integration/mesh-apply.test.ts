import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createMeshStore, type MeshStore } from '../../src/db/mesh-store.js'
import { createHybridClock } from '../../src/mesh/clock.js'
import { createLocalChanges, type LocalChanges } from '../../src/mesh/local-changes.js'
import { createApplyBatch, type ApplyBatch } from '../../src/mesh/apply-batch.js'
import { conflictCopyPath } from '../../src/mesh/conflict-rule.js'
import type { ManifestEntry } from '../../src/mesh/manifest.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { snapshotTree } from '../helpers/tree.js'

/**
 * One node's receiving side in process, on a real directory: its store,
 * clock, local scans and applier, with the hold timers run by the test
 * (so a writer's timing against them is exact), and batches staged by hand.
 */
interface Node { root: string, store: MeshStore, local: LocalChanges, applier: ApplyBatch, holds: Array<() => void>, batch: (from: string, entries: Array<ManifestEntry & { bytes?: string }>) => Promise<string[]> }

async function node (t: TestContext, self: string): Promise<Node> {
  const tmp = await makeTempDir(t, 'syncplane-mesh-apply-')
  const root = path.join(tmp.path, 'tree')
  await mkdir(root)
  const db = openDatabase(':memory:')
  tmp.after(() => db.close())
  migrate(db)
  const store = createMeshStore(db)
  const clock = createHybridClock(Date.now, 0)
  const logger = pino({ level: 'silent' })
  const local = createLocalChanges({ root, self, store, clock, peers: () => ['n1', 'n2'], isExcluded: () => false, mayDelete: () => true, sourceFault: () => null, logger })
  const holds: Array<() => void> = []
  const applier = createApplyBatch({ root, self, store, clock, local, logger, recheck: (check) => holds.push(check), onConflict: () => undefined })
  let n = 0
  return {
    root,
    store,
    local,
    applier,
    holds,
    async batch (from, entries) {
      const staging = path.join(root, '.syncplane', 'staging', from, `b${++n}`)
      for (const e of entries) {
        if (e.bytes === undefined) continue
        await mkdir(path.dirname(path.join(staging, e.path)), { recursive: true })
        await writeFile(path.join(staging, e.path), e.bytes)
      }
      return applier.apply({ from, batch: `b${n}`, entries: entries.map(({ bytes: _bytes, ...e }) => e) }, staging)
    },
  }
}

async function contents (root: string): Promise<string[]> {
  const snap = await snapshotTree(root, { ignore: (rel) => rel === '.syncplane' || rel.startsWith('.syncplane/') })
  const out: string[] = []
  for (const [rel, e] of snap) if (e.type === 'file') out.push(await readFile(path.join(root, rel), 'utf8'))
  return out
}

test('a local file still being written survives when a peer already sent its conflict copy and the winner arrives', async (t) => {
  const n0 = await node(t, 'n0')
  await writeFile(path.join(n0.root, 't.bin'), 'base')
  n0.local.scan(['t.bin'])
  // A writer opens t.bin (truncating) and writes its first chunk; n0 records that version and sends it.
  const fh = await open(path.join(n0.root, 't.bin'), 'w')
  t.after(() => fh.close().catch(() => undefined))
  await fh.write('chunk 1;')
  n0.local.scan(['t.bin'])
  const mine = n0.store.get('t.bin')!
  // n2 met it against n1's version, which won: n2 keeps n0's version as a conflict copy and owes it onwards; it reaches n0 first.
  const copy = conflictCopyPath('t.bin', { hlc: mine.hlc, origin: 'n0' })
  const copyEntry = { path: copy, kind: 'file' as const, deleted: false, vv: JSON.parse(mine.vv), hlc: mine.hlc, origin: 'n0', copyOf: { path: 't.bin', winner: 'n1' } }
  assert.deepEqual(await n0.batch('n2', [{ ...copyEntry, bytes: 'chunk 1;' }]), ['applied'])
  // Then n1's version (concurrent, later: it wins) arrives while the writer is between two chunks.
  const winner = { path: 't.bin', kind: 'file' as const, deleted: false, vv: { n0: 1, n1: 1 }, hlc: mine.hlc + 1_000, origin: 'n1' }
  assert.deepEqual(await n0.batch('n1', [{ ...winner, bytes: 'from n1' }]), ['applied'])
  await fh.write('chunk 2;')
  await fh.close()
  // The holds are checked (as HOLD_MS later), and the next rescan looks at the tree.
  for (const check of n0.holds.splice(0)) check()
  for (const check of n0.holds.splice(0)) check()
  n0.local.scanTree()
  const all = await contents(n0.root)
  assert.ok(all.includes('from n1'), all.join(' | '))
  assert.ok(all.includes('chunk 1;chunk 2;'), `the writer's bytes survive: ${all.join(' | ')}`)
})

test('a local file still being written survives when its conflict copy turns out to be there already (stale) and the winner arrives', async (t) => {
  const n0 = await node(t, 'n0')
  await writeFile(path.join(n0.root, 'u.bin'), 'base')
  n0.local.scan(['u.bin'])
  const fh = await open(path.join(n0.root, 'u.bin'), 'w')
  t.after(() => fh.close().catch(() => undefined))
  await fh.write('part 1;')
  n0.local.scan(['u.bin'])
  const mine = n0.store.get('u.bin')!
  // Its conflict copy arrived and was changed since on a peer (a later version of the copy): putting it there again is stale.
  const copy = conflictCopyPath('u.bin', { hlc: mine.hlc, origin: 'n0' })
  const later = { path: copy, kind: 'file' as const, deleted: false, vv: { ...JSON.parse(mine.vv), n2: 1 }, hlc: mine.hlc + 10, origin: 'n2', copyOf: { path: 'u.bin', winner: 'n1' } }
  assert.deepEqual(await n0.batch('n2', [{ ...later, bytes: 'copy edited on n2' }]), ['applied'])
  const winner = { path: 'u.bin', kind: 'file' as const, deleted: false, vv: { n0: 1, n1: 1 }, hlc: mine.hlc + 1_000, origin: 'n1' }
  assert.deepEqual(await n0.batch('n1', [{ ...winner, bytes: 'from n1' }]), ['applied'])
  await fh.write('part 2;')
  await fh.close()
  for (const check of n0.holds.splice(0)) check()
  for (const check of n0.holds.splice(0)) check()
  n0.local.scanTree()
  const all = await contents(n0.root)
  assert.ok(all.includes('from n1') && all.includes('copy edited on n2'), all.join(' | '))
  assert.ok(all.includes('part 1;part 2;'), `the writer's bytes survive: ${all.join(' | ')}`)
})

test('a local file written after a peer\'s version replaced it (E11) becomes a conflict copy with every byte', async (t) => {
  const n0 = await node(t, 'n0')
  await writeFile(path.join(n0.root, 'h.bin'), 'base')
  n0.local.scan(['h.bin'])
  const fh = await open(path.join(n0.root, 'h.bin'), 'w')
  t.after(() => fh.close().catch(() => undefined))
  await fh.write('A;')
  n0.local.scan(['h.bin'])
  const mine = n0.store.get('h.bin')!
  // n1 had seen that version and wrote over it: its version replaces n0's, whose writer is not done.
  const over = { path: 'h.bin', kind: 'file' as const, deleted: false, vv: { ...JSON.parse(mine.vv), n1: 1 }, hlc: mine.hlc + 1_000, origin: 'n1' }
  assert.deepEqual(await n0.batch('n1', [{ ...over, bytes: 'PEER-VERSION' }]), ['applied'])
  await fh.write('B;')
  await fh.write('C;')
  await fh.close()
  for (const check of n0.holds.splice(0)) check()
  for (const check of n0.holds.splice(0)) check()
  const all = await contents(n0.root)
  assert.ok(all.includes('PEER-VERSION'), all.join(' | '))
  assert.ok(all.includes('A;B;C;'), `the writer's bytes survive: ${all.join(' | ')}`)
})

test('a file a peer\'s version replaced is kept in the trash (mesh.trashDays), not unlinked', async (t) => {
  const n0 = await node(t, 'n0')
  await writeFile(path.join(n0.root, 'r.bin'), 'the replaced bytes')
  n0.local.scan(['r.bin'])
  const mine = n0.store.get('r.bin')!
  const over = { path: 'r.bin', kind: 'file' as const, deleted: false, vv: { ...JSON.parse(mine.vv), n1: 1 }, hlc: mine.hlc + 1_000, origin: 'n1' }
  assert.deepEqual(await n0.batch('n1', [{ ...over, bytes: 'the new bytes' }]), ['applied'])
  for (const check of n0.holds.splice(0)) check()
  assert.deepEqual(await contents(n0.root), ['the new bytes'])
  const trash = path.join(n0.root, '.syncplane', 'trash')
  const kept = await Promise.all((await readdir(trash)).map((name) => readFile(path.join(trash, name), 'utf8')))
  assert.deepEqual(kept, ['the replaced bytes'])
})
