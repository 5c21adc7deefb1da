import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { MeshStore } from '../../src/db/mesh-store.js'
import type { LocalChanges } from '../../src/mesh/local-changes.js'
import type { ApplyBatch } from '../../src/mesh/apply-batch.js'
import { createApplyingJournal, type ApplyingJournal } from '../../src/mesh/applying-journal.js'
import { receiveBatch } from '../../src/mesh/receive.js'
import type { ManifestEntry } from '../../src/mesh/manifest.js'
import { compareVectors } from '../../src/mesh/version-vector.js'
import { createMeshReceiver, walkWholeTree } from '../helpers/mesh-receiver.js'

/**
 * A process killed between putting a peer's files in place and committing
 * their rows: the applying journal (src/mesh/applying-journal.ts) tells at
 * start what reached the tree. The crash is the slice's transaction rolled
 * back after the files moved (what SQLite keeps of a killed process), with
 * the staging directory left as a crash leaves it.
 */
interface Node { root: string, store: MeshStore, local: LocalChanges, applier: ApplyBatch, journal: ApplyingJournal }

async function node (t: TestContext): Promise<Node> {
  const { root, store, logger, local, applier } = await createMeshReceiver(t, { self: 'n0', peers: ['n1'], prefix: 'syncplane-mesh-journal-' })
  return { root, store, local, applier: applier(), journal: createApplyingJournal({ root, store, logger }) }
}

const entry = (rel: string, counter: number): ManifestEntry => ({ path: rel, kind: 'file', deleted: false, vv: { n1: counter }, hlc: Date.now(), origin: 'n1' })

async function stage (n: Node, batch: string, files: Record<string, string>): Promise<string> {
  const staging = path.join(n.root, '.syncplane', 'staging', 'n1', batch)
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(staging, rel)), { recursive: true })
    await writeFile(path.join(staging, rel), bytes)
  }
  return staging
}

class Killed extends Error {}

/** Applies `entries` as one slice and dies before its commit: the files moved, no row stays. */
function applyAndDie (n: Node, staging: string, noted: ManifestEntry[], applied: ManifestEntry[]): void {
  n.journal.begin(staging, noted)
  assert.throws(() => n.store.transaction(() => {
    n.applier.apply({ from: 'n1', batch: path.basename(staging), entries: applied }, staging)
    throw new Killed()
  }), Killed)
}

test('a file a peer sent, put in place just before a crash and deleted while the node was down, is deleted everywhere, not sent back', async (t) => {
  const n = await node(t)
  const [gone, kept, never] = [entry('up/gone.bin', 1), entry('up/kept.bin', 1), entry('up/never.bin', 1)]
  const staging = await stage(n, 'b1', { 'up/gone.bin': 'gone', 'up/kept.bin': 'kept', 'up/never.bin': 'never' })
  // The slice had reached two of its three files when the process died.
  applyAndDie(n, staging, [gone, kept, never], [gone, kept])
  assert.equal(n.store.get('up/gone.bin'), undefined, 'the crash left no row')
  assert.equal(await readFile(path.join(n.root, 'up/gone.bin'), 'utf8'), 'gone', 'but the file in place')
  // While the node was down, its users deleted one of them.
  await rm(path.join(n.root, 'up/gone.bin'))

  assert.equal(n.journal.recover(), 2)
  assert.equal(n.store.applying().length, 0, 'the note is settled')
  assert.deepEqual(JSON.parse(n.store.get('up/kept.bin')!.vv), { n1: 1 }, 'the file in place holds the peer\'s version')
  assert.equal(n.store.get('up/never.bin'), undefined, 'a file never put in place stays owed by the peer')
  // The start's scan: the deletion is a local one, of the version the peer sent.
  const found = walkWholeTree(n.local)
  const tomb = n.store.get('up/gone.bin')!
  assert.equal(tomb.deleted, true)
  assert.equal(compareVectors({ n1: 1 }, JSON.parse(tomb.vv)), 'before', 'the deletion is n0\'s, having seen the peer\'s version')
  assert.equal(n.store.owedPath('up/gone.bin'), 1, 'and is owed to the peer')
  assert.equal(n.store.owedPath('up/kept.bin'), 0, 'a version a peer sent is never sent back')
  assert.ok(found.tombstones >= 1)
  // The peer sends the file again (it was never acknowledged): stale here, it stays deleted.
  const again = await stage(n, 'b2', { 'up/gone.bin': 'gone' })
  assert.deepEqual(n.applier.apply({ from: 'n1', batch: 'b2', entries: [gone] }, again), ['stale'])
  await assert.rejects(readFile(path.join(n.root, 'up/gone.bin')), { code: 'ENOENT' })
})

test('a file a peer sent and a crash cut short, replaced by a local write while the node was down, is that local write\'s version', async (t) => {
  const n = await node(t)
  const e = entry('a.txt', 3)
  const staging = await stage(n, 'b1', { 'a.txt': 'from n1' })
  applyAndDie(n, staging, [e], [e])
  await rm(path.join(n.root, 'a.txt'))
  await writeFile(path.join(n.root, 'a.txt'), 'written here while down')
  // A different file at the path: the note proves nothing of it; the scan makes it a local version, and when the
  // peer sends its version again the two meet as concurrent versions, both kept.
  assert.equal(n.journal.recover(), 0)
  walkWholeTree(n.local)
  assert.deepEqual(Object.keys(JSON.parse(n.store.get('a.txt')!.vv)), ['n0'], 'a local version that has seen nothing of the peer\'s')
})

test('a slice whose commit fails in a live process is recorded from its note at once, and its staging directory removed', async (t) => {
  const n = await node(t)
  const e = entry('b.txt', 1)
  const staging = await stage(n, 'b1', { 'b.txt': 'from n1' })
  let failed = false
  const failingOnce = <T>(fn: () => T): T => n.store.transaction(() => {
    const out = fn()
    if (!failed) {
      failed = true
      throw new Error('SQLITE_IOERR: disk I/O error')
    }
    return out
  })
  await assert.rejects(receiveBatch({ root: n.root, applier: n.applier, sourceFault: () => null, beforeSlice: () => undefined, transaction: failingOnce, journal: n.journal }, { from: 'n1', batch: 'b1', entries: [e] }), /disk I\/O/)
  assert.deepEqual(JSON.parse(n.store.get('b.txt')!.vv), { n1: 1 }, 'the file in place has its row')
  assert.equal(n.store.applying().length, 0)
  await assert.rejects(readFile(staging), { code: 'ENOENT' })
})

test('a note whose staging directory is gone records nothing it cannot prove (no deletion of a file that maybe never arrived)', async (t) => {
  const n = await node(t)
  const e = entry('c.txt', 1)
  const staging = await stage(n, 'b1', { 'c.txt': 'from n1' })
  n.journal.begin(staging, [e])
  await rm(staging, { recursive: true })
  assert.equal(n.journal.recover(), 0)
  assert.equal(n.store.get('c.txt'), undefined)
  assert.equal(n.store.applying().length, 0)
})
