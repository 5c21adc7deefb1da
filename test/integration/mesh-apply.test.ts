import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, existsSync, readdirSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import type { MeshStore } from '../../src/db/mesh-store.js'
import type { LocalChanges } from '../../src/mesh/local-changes.js'
import type { ApplyBatch } from '../../src/mesh/apply-batch.js'
import { conflictCopyPath } from '../../src/mesh/conflict-rule.js'
import type { ManifestEntry } from '../../src/mesh/manifest.js'
import { openForWrite, type OpenForWrite } from '../../src/mesh/open-writers.js'
import { createMeshReceiver, walkWholeTree } from '../helpers/mesh-receiver.js'
import { snapshotTree } from '../helpers/tree.js'

/**
 * One node's receiving side in process, on a real directory: its store,
 * clock, local scans and applier, with the hold timers run by the test
 * (so a writer's timing against them is exact), and batches staged by hand.
 */
interface Node {
  root: string
  store: MeshStore
  local: LocalChanges
  applier: ApplyBatch
  holds: Array<() => Promise<void>>
  batch: (from: string, entries: Array<ManifestEntry & { bytes?: string }>) => Promise<string[]>
  /** A new applier on the same tree and store, as after a restart, taking up the displaced files the last one left. */
  restart: () => void
}

/** `displaced`: how displaced files are held (by default no least time, and /proc read for writers as in production; never suspended by a source fault). */
async function node (t: TestContext, self: string, displaced: { windowMs?: number, openForWrite?: OpenForWrite, suspended?: () => boolean } = {}): Promise<Node> {
  const { root, store, local, applier } = await createMeshReceiver(t, { self, peers: ['n1', 'n2'], prefix: 'syncplane-mesh-apply-' })
  const holds: Array<() => Promise<void>> = []
  const makeApplier = (): ApplyBatch => applier({
    recheck: (pass) => holds.push(pass),
    openForWrite: displaced.openForWrite ?? openForWrite,
    suspended: displaced.suspended,
    displacedTiming: { windowMs: displaced.windowMs ?? 0, recheckMs: 10 },
  })
  let n = 0
  const me: Node = {
    root,
    store,
    local,
    applier: makeApplier(),
    holds,
    restart () {
      me.applier.displaced.close()
      holds.length = 0
      me.applier = makeApplier()
      me.applier.displaced.adopt()
    },
    async batch (from, entries) {
      const staging = path.join(root, '.syncplane', 'staging', from, `b${++n}`)
      for (const e of entries) {
        if (e.bytes === undefined) continue
        await mkdir(path.dirname(path.join(staging, e.path)), { recursive: true })
        await writeFile(path.join(staging, e.path), e.bytes)
      }
      return me.applier.apply({ from, batch: `b${n}`, entries: entries.map(({ bytes: _bytes, ...e }) => e) }, staging)
    },
  }
  return me
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
  for (const check of n0.holds.splice(0)) await check()
  for (const check of n0.holds.splice(0)) await check()
  walkWholeTree(n0.local)
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
  for (const check of n0.holds.splice(0)) await check()
  for (const check of n0.holds.splice(0)) await check()
  walkWholeTree(n0.local)
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
  for (const check of n0.holds.splice(0)) await check()
  for (const check of n0.holds.splice(0)) await check()
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
  for (const check of n0.holds.splice(0)) await check()
  assert.deepEqual(await contents(n0.root), ['the new bytes'])
  const trash = path.join(n0.root, '.syncplane', 'trash')
  const kept = await Promise.all((await readdir(trash)).map((name) => readFile(path.join(trash, name), 'utf8')))
  assert.deepEqual(kept, ['the replaced bytes'])
})

/** Runs the displaced-file passes due by now (each may schedule the next), `times` rounds. */
async function settle (n: Node, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) for (const pass of n.holds.splice(0)) await pass()
}

const names = (dir: string): Promise<string[]> => readdir(dir).catch(() => [])

/** n0 writes `rel` with a writer that keeps it open; n1's version, which had seen it, replaces it (E11). Returns the writer. */
async function displacedUnderWriter (t: TestContext, n0: Node, rel: string): Promise<FileHandle> {
  await writeFile(path.join(n0.root, rel), 'base')
  n0.local.scan([rel])
  const fh = await open(path.join(n0.root, rel), 'w')
  t.after(() => fh.close().catch(() => undefined))
  await fh.write('A;')
  n0.local.scan([rel])
  const mine = n0.store.get(rel)!
  const over = { path: rel, kind: 'file' as const, deleted: false, vv: { ...JSON.parse(mine.vv), n1: 1 }, hlc: mine.hlc + 1_000, origin: 'n1' }
  assert.deepEqual(await n0.batch('n1', [{ ...over, bytes: 'PEER-VERSION' }]), ['applied'])
  return fh
}

test('a displaced file a writer still holds open is never trashed, however long the writer pauses: its later bytes become a conflict copy', async (t) => {
  const n0 = await node(t, 'n0', { windowMs: 50 })
  const fh = await displacedUnderWriter(t, n0, 'w.bin')
  const displacedDir = path.join(n0.root, '.syncplane', 'displaced')
  const trash = path.join(n0.root, '.syncplane', 'trash')
  // Well past the least time (the 5 s window of old), several passes: the writer still has it open, so it stays held.
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 80))
    await settle(n0)
  }
  assert.deepEqual(await names(trash), [], 'nothing in the trash while a writer holds the file')
  assert.equal(n0.applier.displaced.count(), 1, 'still held')
  assert.equal(n0.holds.length, 1, 'and looked at again later')
  await fh.write('B;')
  await settle(n0)
  assert.equal(n0.applier.displaced.count(), 0)
  assert.deepEqual((await names(displacedDir)).filter((name) => !name.startsWith('.')), [], 'nothing left displaced, no note either')
  const all = await contents(n0.root)
  assert.ok(all.includes('PEER-VERSION'), all.join(' | '))
  assert.ok(all.includes('A;B;'), `the writer's bytes are a conflict copy: ${all.join(' | ')}`)
  // The copy is a local version, owed to the peers.
  const copy = [...n0.store.all()].find((r) => r.path.startsWith('w.sync-conflict-'))
  assert.ok(copy !== undefined && copy.origin === 'n0', JSON.stringify(copy))
})

test('a displaced file held open but not written goes to the trash once its writer closes it', async (t) => {
  const n0 = await node(t, 'n0', { windowMs: 50 })
  const fh = await displacedUnderWriter(t, n0, 'c.bin')
  await new Promise((resolve) => setTimeout(resolve, 80))
  await settle(n0)
  assert.equal(n0.applier.displaced.count(), 1)
  await fh.close()
  await new Promise((resolve) => setTimeout(resolve, 20))
  await settle(n0, 3)
  assert.equal(n0.applier.displaced.count(), 0)
  const trash = path.join(n0.root, '.syncplane', 'trash')
  const kept = await Promise.all((await names(trash)).map((name) => readFile(path.join(trash, name), 'utf8')))
  assert.deepEqual(kept, ['A;'])
  assert.deepEqual(await contents(n0.root), ['PEER-VERSION'])
})

test('without /proc, a displaced file waits out the window before the trash (and is kept if written meanwhile)', async (t) => {
  const n0 = await node(t, 'n0', { windowMs: 60_000, openForWrite: async () => null })
  const fh = await displacedUnderWriter(t, n0, 'n.bin')
  await settle(n0)
  assert.equal(n0.applier.displaced.count(), 1, 'not due: held')
  await fh.write('B;')
  await settle(n0)
  assert.equal(n0.applier.displaced.count(), 0)
  assert.ok((await contents(n0.root)).includes('A;B;'))
})

test('a displaced file a restart interrupted is held again from its note, not trashed unchecked', async (t) => {
  const n0 = await node(t, 'n0', { windowMs: 50 })
  const fh = await displacedUnderWriter(t, n0, 'r.bin')
  // The service stops (its timers with it) and starts again while the writer still has the file open.
  n0.restart()
  assert.equal(n0.applier.displaced.count(), 1)
  await new Promise((resolve) => setTimeout(resolve, 80))
  await settle(n0)
  assert.equal(n0.applier.displaced.count(), 1, 'the writer still holds it')
  await fh.write('B;')
  await fh.close()
  await settle(n0)
  assert.equal(n0.applier.displaced.count(), 0)
  const all = await contents(n0.root)
  assert.ok(all.includes('PEER-VERSION') && all.includes('A;B;'), all.join(' | '))
})

test('at start, displaced files without a note (and notes without a file) go to the trash, never away; a held file named *.hold is still told from a note', async (t) => {
  const n0 = await node(t, 'n0', { windowMs: 50 })
  const fh = await displacedUnderWriter(t, n0, 'x.hold')
  const dir = path.join(n0.root, '.syncplane', 'displaced')
  await writeFile(path.join(dir, '1-aaaa-orphan.bin'), 'displaced by an older syncplane')
  await writeFile(path.join(dir, '1-bbbb-settled.bin.hold'), '{}')
  n0.restart()
  assert.equal(n0.applier.displaced.count(), 1, 'x.hold is held again')
  const trash = path.join(n0.root, '.syncplane', 'trash')
  const kept = await Promise.all((await names(trash)).map((name) => readFile(path.join(trash, name), 'utf8')))
  assert.deepEqual(kept.sort(), ['displaced by an older syncplane', '{}'])
  await fh.write('B;')
  await settle(n0)
  assert.ok((await contents(n0.root)).includes('A;B;'))
})

test('a local version moved to a conflict copy while its writer is still at it: what the writer added meanwhile is a new version of the copy', async (t) => {
  const n0 = await node(t, 'n0')
  await writeFile(path.join(n0.root, 'w.bin'), 'first chunk;')
  n0.local.scan(['w.bin'])
  const mine = n0.store.get('w.bin')!
  // The writer (which saw its path change) adds a chunk after its file was moved off the path, before the copy is in place.
  // The seam: the applier reads the copy's row once the local file is off its path (under .syncplane/displaced).
  const get = n0.store.get
  let added = false
  n0.store.get = (rel) => {
    const displaced = path.join(n0.root, '.syncplane', 'displaced')
    if (!added && rel.includes('.sync-conflict-') && existsSync(displaced)) {
      for (const name of readdirSync(displaced)) {
        if (name.endsWith('.hold')) continue
        appendFileSync(path.join(displaced, name), 'second chunk;')
        added = true
      }
    }
    return get(rel)
  }
  const winner = { path: 'w.bin', kind: 'file' as const, deleted: false, vv: { n1: 1 }, hlc: mine.hlc + 1_000, origin: 'n1' }
  assert.deepEqual(await n0.batch('n1', [{ ...winner, bytes: 'from n1' }]), ['applied'])
  n0.store.get = get
  assert.ok(added, 'the writer added its chunk while the file was off its path')
  const copy = conflictCopyPath('w.bin', { hlc: mine.hlc, origin: 'n0' })
  assert.equal(await readFile(path.join(n0.root, copy), 'utf8'), 'first chunk;second chunk;')
  // The copy was held as the version it was (the first chunk): the next scan finds the second, a version the peers get.
  walkWholeTree(n0.local)
  assert.notEqual(n0.store.get(copy)!.vv, mine.vv, 'the copy with the added chunk is a new version')
})

test('a local version a stop caught on its way to its conflict copy is back at its path at start (or a copy of its own if the path is taken), never trashed', async (t) => {
  const n0 = await node(t, 'n0', { windowMs: 50 })
  for (const rel of ['back.bin', 'taken.bin']) {
    await writeFile(path.join(n0.root, rel), `mine at ${rel}`)
    n0.local.scan([rel])
    // What the move to a conflict copy does first, and where a crash can stop it: the note, then the rename.
    const staged = n0.applier.displaced.reserve(rel, n0.store.get(rel)!, 'moving', 'conflict')
    await rename(path.join(n0.root, rel), staged)
  }
  // The peer's version was put at one of the paths before the crash (its row never committed).
  await writeFile(path.join(n0.root, 'taken.bin'), 'the peer\'s version')
  n0.restart()
  assert.equal(n0.applier.displaced.count(), 0)
  assert.equal(await readFile(path.join(n0.root, 'back.bin'), 'utf8'), 'mine at back.bin')
  const all = await contents(n0.root)
  assert.ok(all.includes('mine at taken.bin') && all.includes('the peer\'s version'), all.join(' | '))
  assert.deepEqual(await names(path.join(n0.root, '.syncplane', 'displaced')), [], 'no file and no note left')
  assert.deepEqual(await names(path.join(n0.root, '.syncplane', 'trash')), [])
})

test('while the source is faulted a held file that looks gone stays held, and is settled as before once the fault clears', async (t) => {
  let faulted = false
  const n0 = await node(t, 'n0', { windowMs: 50, suspended: () => faulted })
  const fh = await displacedUnderWriter(t, n0, 'f.bin')
  // The volume goes away (as an unmount would take .syncplane with it): every held file looks gone.
  faulted = true
  const dir = path.join(n0.root, '.syncplane', 'displaced')
  await rename(dir, `${dir}-away`)
  await new Promise((resolve) => setTimeout(resolve, 80))
  await settle(n0)
  assert.equal(n0.applier.displaced.count(), 1, 'still held: gone only while the source is faulted')
  await rename(`${dir}-away`, dir)
  faulted = false
  await fh.write('B;')
  await settle(n0, 2)
  assert.equal(n0.applier.displaced.count(), 0)
  assert.ok((await contents(n0.root)).includes('A;B;'), 'the writer\'s bytes are a conflict copy')
})

test('a deletion below a path that is a file here is recorded: the version it removed, arriving later, stays removed', async (t) => {
  const n0 = await node(t, 'n0')
  await writeFile(path.join(n0.root, 'p'), 'a file here')
  n0.local.scan(['p'])
  const made = { path: 'p/x', kind: 'file' as const, deleted: false, vv: { n1: 5 }, hlc: Date.now(), origin: 'n1' }
  const removed = { ...made, deleted: true, vv: { n1: 5, n2: 7 }, hlc: made.hlc + 1, origin: 'n2' }
  assert.deepEqual(await n0.batch('n2', [removed]), ['applied'])
  assert.equal(n0.store.get('p/x')?.deleted, true, 'the deletion is kept, though nothing could be there')
  // The file goes (a peer's directory is on its way, say); the version the deletion removed is old news then.
  await unlink(path.join(n0.root, 'p'))
  n0.local.scan(['p'])
  assert.deepEqual(await n0.batch('n1', [{ ...made, bytes: 'old news' }]), ['stale'])
  assert.equal(n0.store.get('p/x')?.deleted, true)
})

test('a peer\'s version of a path new here meets a local file not yet reported: retried, never over it, then kept beside it as a conflict', async (t) => {
  const n0 = await node(t, 'n0')
  // An application's upload the watcher has not reported yet: no row for the path here.
  await writeFile(path.join(n0.root, 'up.bin'), 'LOCAL-UPLOAD')
  assert.equal(n0.store.get('up.bin'), undefined)
  const theirs = { path: 'up.bin', kind: 'file' as const, deleted: false, vv: { n1: 1 }, hlc: Date.now(), origin: 'n1' }
  assert.deepEqual(await n0.batch('n1', [{ ...theirs, bytes: 'PEER-UPLOAD' }]), ['retry'])
  assert.equal(await readFile(path.join(n0.root, 'up.bin'), 'utf8'), 'LOCAL-UPLOAD')
  // The report comes: the upload is a version of n0's own, and the peer's, sent again, is concurrent with it.
  n0.local.scan(['up.bin'])
  assert.deepEqual(await n0.batch('n1', [{ ...theirs, bytes: 'PEER-UPLOAD' }]), ['applied'])
  assert.deepEqual((await contents(n0.root)).sort(), ['LOCAL-UPLOAD', 'PEER-UPLOAD'])
  assert.equal(n0.store.copiesOf('up.bin').length, 1, 'the loser is one conflict copy')
})
