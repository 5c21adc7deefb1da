import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createMeshStore, type MeshFileRow } from '../../src/db/mesh-store.js'
import { makeTempDir } from '../helpers/temp-dir.js'

// The reads a burst goes through in one statement each: a directory's
// entries (a scan of it), and a peer's owed items with their rows (a batch).

async function storeOnFile (t: Parameters<typeof makeTempDir>[0]) {
  const tmp = await makeTempDir(t, 'mesh-store-')
  const db = openDatabase(path.join(tmp.path, 'state.db'))
  tmp.after(() => db.close())
  migrate(db)
  return createMeshStore(db)
}

const row = (p: string, over: Partial<MeshFileRow> = {}): MeshFileRow => ({
  path: p, kind: 'file', deleted: false, vv: '{"n0":1}', seen: null, dead: null, hlc: 1, origin: 'n0', size: 1, mtimeNs: '1', ino: '1', copyOf: null, ...over,
})

test('children lists the entries directly in a directory, tombstones included, whatever characters the names hold', async (t) => {
  const store = await storeOnFile(t)
  // Names that sort before '/' ('a b', 'a.txt', 'a/b c') sit between a directory's row and the rows below it.
  const paths = ['a', 'a/b', 'a/b/c', 'a/c', 'a0', 'a-x/y', 'a b', 'a.txt', 'a/b c', 'a/b c/d', 'a/b.txt', 'b', 'ünï', 'ünï/ñ', 'ünï/ñ/deep', '🙂', '🙂/x', '🙂/x/y', 'with space/f']
  for (const p of paths) store.put(row(p))
  store.put(row('a/gone', { deleted: true }))
  const names = (dir: string): string[] => store.children(dir).map((r) => r.path).sort()
  assert.deepEqual(names(''), ['a', 'a b', 'a.txt', 'a0', 'b', 'ünï', '🙂'].sort())
  assert.deepEqual(names('a'), ['a/b', 'a/b c', 'a/b.txt', 'a/c', 'a/gone'])
  assert.deepEqual(names('a/b'), ['a/b/c'])
  assert.deepEqual(names('ünï'), ['ünï/ñ'])
  assert.deepEqual(names('🙂'), ['🙂/x'])
  assert.deepEqual(names('with space'), ['with space/f'])
  assert.deepEqual(names('b'), [])
})

test('takeRows gives each owed item in order with its row, and no row for a path never recorded', async (t) => {
  const store = await storeOnFile(t)
  store.put(row('x'))
  store.put(row('y', { kind: 'dir', size: null, mtimeNs: null, ino: null }))
  store.enqueue('y', ['n1'], 1)
  store.enqueue('never-recorded', ['n1'], 2)
  store.enqueue('x', ['n1', 'n2'], 3)
  const owed = store.takeRows('n1', 10)
  assert.deepEqual(owed.map((o) => o.item), [{ path: 'y', seq: 1 }, { path: 'never-recorded', seq: 2 }, { path: 'x', seq: 3 }])
  assert.deepEqual(owed.map((o) => o.row), [store.get('y'), undefined, store.get('x')])
  assert.deepEqual(store.takeRows('n1', 1).map((o) => o.item.path), ['y'])
})

test('copiesOf lists the present conflict copies of the versions that lost at a path, through its index', async (t) => {
  const store = await storeOnFile(t)
  store.put(row('d/f.txt'))
  store.put(row('d/f.sync-conflict-1.txt', { copyOf: JSON.stringify({ path: 'd/f.txt', winner: 'n1' }) }))
  store.put(row('d/f.sync-conflict-2.txt', { copyOf: JSON.stringify({ path: 'd/f.txt', winner: 'n2' }), deleted: true }))
  store.put(row('g.sync-conflict-3', { copyOf: JSON.stringify({ path: 'g', winner: 'n1' }) }))
  assert.deepEqual(store.copiesOf('d/f.txt').map((r) => r.path), ['d/f.sync-conflict-1.txt'])
  assert.deepEqual(store.copiesOf('d/none'), [])
})
