import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createLocalChanges } from '../../src/mesh/local-changes.js'
import { createMeshReceiver, walkWholeTree } from '../helpers/mesh-receiver.js'
import { makeTempDir } from '../helpers/temp-dir.js'

// A scan counts the directories it finds gone: the intake reads the whole
// tree after those (the watcher loses watches and paths where they went).

async function treeWithDirs (t: Parameters<typeof createMeshReceiver>[0]) {
  const node = await createMeshReceiver(t, { self: 'n0', peers: ['n1'], prefix: 'mesh-local-' })
  for (const dir of ['moved/sub', 'removed', 'kept']) await mkdir(path.join(node.root, dir), { recursive: true })
  for (const file of ['moved/sub/f', 'removed/f', 'kept/f', 'file']) await writeFile(path.join(node.root, file), 'x')
  walkWholeTree(node.local)
  return node
}

test('a scan of reported paths counts the directories gone or replaced, not the files', async (t) => {
  const { root, local } = await treeWithDirs(t)
  await rename(path.join(root, 'moved'), path.join(root, 'moved-to'))
  await rm(path.join(root, 'removed'), { recursive: true })
  await rm(path.join(root, 'kept/f'))
  await rm(path.join(root, 'file'))
  await mkdir(path.join(root, 'file'))
  const result = local.scan(['moved', 'moved-to', 'removed', 'kept/f', 'file'])
  assert.equal(result.dirsGone, 2, 'moved away and removed')
  assert.equal(result.tombstones, 6, 'moved, moved/sub, moved/sub/f, removed, removed/f, kept/f')
})

test('a read of a directory counts the directories gone from it', async (t) => {
  const { root, local } = await treeWithDirs(t)
  await rm(path.join(root, 'removed'), { recursive: true })
  await rm(path.join(root, 'kept/f'))
  const result = local.scanDirs(['', 'kept'])
  assert.equal(result.dirsGone, 1)
})

test('a directory replaced by a file counts as gone', async (t) => {
  const { root, local } = await treeWithDirs(t)
  await rm(path.join(root, 'removed'), { recursive: true })
  await writeFile(path.join(root, 'removed'), 'now a file')
  assert.equal(local.scan(['removed']).dirsGone, 1)
})

test('a repair\'s find already owed to the peer (queued, or in a batch in flight) keeps its place, so the batch\'s acknowledgement takes it off; one not owed is queued', async (t) => {
  const { root, local, store } = await createMeshReceiver(t, { self: 'n0', peers: ['n1'], prefix: 'mesh-local-' })
  await writeFile(path.join(root, 'in-flight'), 'x')
  await writeFile(path.join(root, 'sent'), 'y')
  local.scan(['in-flight', 'sent'])
  const [inFlight, sent] = store.takeRows('n1', 10)
  store.ack('n1', [sent!.item])
  local.remind('in-flight', 'n1')
  local.remind('sent', 'n1')
  store.ack('n1', [inFlight!.item])
  assert.deepEqual(store.takeRows('n1', 10).map((o) => o.item.path), ['sent'])
})

test('a read of the whole tree a directory per step finds what it finds in one piece, and is done only after the last', async (t) => {
  const { root, local, store } = await treeWithDirs(t)
  await rm(path.join(root, 'kept/f'))
  await writeFile(path.join(root, 'moved/sub/new'), 'y')
  await writeFile(path.join(root, 'file'), 'changed')
  const walk = local.walkTree()
  let steps = 1
  while (!walk.step(0)) steps++
  assert.equal(steps, 5, 'the root, moved, moved/sub, removed, kept: one each')
  assert.deepEqual({ versions: walk.result.versions, tombstones: walk.result.tombstones }, { versions: 2, tombstones: 1 })
  assert.equal(store.get('kept/f')!.deleted, true)
})

test('a read of the whole tree in steps: a path found gone and back before the last step is not deleted', async (t) => {
  const { root, local, store } = await treeWithDirs(t)
  await rm(path.join(root, 'kept/f'))
  const walk = local.walkTree()
  assert.equal(walk.step(0), false, 'the root')
  assert.equal(walk.step(0), false, 'one of its directories')
  // Written again (an upload, a peer's version) while the read is under way, before or after it reached kept/.
  await writeFile(path.join(root, 'kept/f'), 'again')
  while (!walk.step(0));
  assert.equal(walk.result.tombstones, 0)
  assert.equal(store.get('kept/f')!.deleted, false)
})

test('a read of the whole tree in steps counts only the deletions still to record when it settles them (the watcher may have recorded one meanwhile)', async (t) => {
  const { root, store, clock, logger } = await treeWithDirs(t)
  const asked: Array<{ count: number, whole: boolean }> = []
  const local = createLocalChanges({ root, self: 'n0', store, clock, peers: () => ['n1'], isExcluded: () => false, mayDelete: (count, whole) => asked.push({ count, whole }) > 0, sourceFault: () => null, logger })
  await rm(path.join(root, 'file'))
  const walk = local.walkTree()
  assert.equal(walk.step(0), false, 'the root: file found gone')
  local.scan(['file'])
  while (!walk.step(0));
  assert.deepEqual(asked, [{ count: 1, whole: false }], 'the watcher\'s scan recorded it; the read counted nothing')
  assert.equal(walk.result.tombstones, 0)
  assert.equal(store.get('file')!.deleted, true)
})

test('a directory made a symlink between the steps of a read of the whole tree is not read through', async (t) => {
  const { root, store, local } = await treeWithDirs(t)
  const outside = (await makeTempDir(t, 'mesh-outside-')).path
  await writeFile(path.join(outside, 'secret'), 'not in the tree')
  const walk = local.walkTree()
  assert.equal(walk.step(0), false, 'the root: kept and removed queued')
  await rename(path.join(root, 'kept'), path.join(root, 'kept-away'))
  await symlink(outside, path.join(root, 'kept'))
  while (!walk.step(0));
  assert.equal(store.get('kept/secret'), undefined)
})

test('a directory replaced by a symlink to where it went: what was below it is deleted, not found through the link', async (t) => {
  const { root, store, local } = await treeWithDirs(t)
  await rename(path.join(root, 'kept'), path.join(root, 'kept.old'))
  await symlink('kept.old', path.join(root, 'kept'))
  walkWholeTree(local)
  assert.equal(store.get('kept/f')!.deleted, true)
  assert.equal(store.get('kept.old/f')!.deleted, false)
})

test('a source given as a symlink to its directory is read whole, like the directory itself', async (t) => {
  const { root, store, clock, logger } = await treeWithDirs(t)
  const link = `${root}-link` // beside the tree, in the same temporary directory
  await symlink(root, link)
  const local = createLocalChanges({ root: link, self: 'n0', store, clock, peers: () => ['n1'], isExcluded: () => false, mayDelete: () => true, sourceFault: () => null, logger })
  await writeFile(path.join(root, 'kept/new'), 'y')
  const result = walkWholeTree(local)
  assert.equal(result.versions, 1)
  assert.equal(store.get('kept/new')!.deleted, false)
})
