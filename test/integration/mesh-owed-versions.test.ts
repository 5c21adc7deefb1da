import { test, type TestContext } from 'node:test'
import { pino } from 'pino'
import assert from 'node:assert/strict'
import { mkdir, readFile, rm, rmdir, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { mergeVectors, type VersionVector } from '../../src/mesh/version-vector.js'
import { createTombstoneSweep } from '../../src/mesh/tombstones.js'
import { createInProcessMesh, type InProcessNode } from '../helpers/mesh-in-process.js'

/**
 * Three nodes in process, each with its tree, store and applier, and
 * delivery done by hand the way a peer link does it: what a node owes a
 * peer goes as the row it holds for the path *now*. So a row replaced by a
 * version that has not seen the one it held must not drop what that one
 * told the peers (a deletion, a directory's own version): a node still
 * holding what it removed would keep it for good, every node idle.
 */
type Node = InProcessNode
type Mesh = Awaited<ReturnType<typeof createInProcessMesh>>

const NAMES = ['n0', 'n1', 'n2']

const threeNodes = (t: TestContext): Promise<Mesh> => createInProcessMesh(t, NAMES, 'syncplane-mesh-owed-')

/** A local write, as the watcher would report it. */
async function write (n: Node, rel: string, text: string): Promise<void> {
  await writeFile(path.join(n.root, rel), text)
  n.local.scan([rel])
}

/** A local deletion, as the watcher would report it. */
async function erase (n: Node, rel: string): Promise<void> {
  await rm(path.join(n.root, rel))
  n.local.scan([rel])
}

/** A local directory with a file in it, as the watcher would report them. */
async function makeDir (n: Node, rel: string): Promise<void> {
  await mkdir(path.join(n.root, rel))
  await writeFile(path.join(n.root, rel, 'inner'), 'inside')
  n.local.scan([rel, `${rel}/inner`])
}

const vvOf = (n: Node, rel: string): unknown => JSON.parse(n.store.get(rel)!.vv)

test('two versions of one directory that have not seen each other: each node holds what has seen both, so a deletion of only one of them is met as concurrent everywhere', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes
  await mkdir(path.join(n0!.root, 'd'))
  n0!.local.scan(['d'])
  await settle()
  // n0 and n1 each make the directory again (a new version each), neither having seen the other's; n2 hears of n0's.
  for (const n of [n0!, n1!]) {
    await rmdir(path.join(n.root, 'd'))
    n.local.scan(['d'])
    await mkdir(path.join(n.root, 'd'))
    n.local.scan(['d'])
  }
  const made = [vvOf(n0!, 'd'), vvOf(n1!, 'd')] as VersionVector[]
  await deliver(n0!, n2!)
  await deliver(n0!, n1!)
  await deliver(n1!, n0!)
  assert.deepEqual(vvOf(n0!, 'd'), vvOf(n1!, 'd'), 'n0 and n1 hold the same version of d')
  assert.deepEqual(vvOf(n0!, 'd'), mergeVectors(made[0]!, made[1]!), 'the one that has seen both')
  // n2 removes it, having seen n0's version only: n1's was concurrent with that deletion, so d stays everywhere.
  await rmdir(path.join(n2!.root, 'd'))
  n2!.local.scan(['d'])
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(n.store.get('d')?.deleted, false, `${n.name} keeps d`)
})

test('a deletion of a directory made here, then a version of it the deletion had not seen: it comes back everywhere, the peer that still held what was deleted included', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes
  // n0 makes d and n1 hears of it; n2 makes d too (its own version); n0 removes d before its deletion reaches n1.
  await mkdir(path.join(n0!.root, 'd'))
  n0!.local.scan(['d'])
  await deliver(n0!, n1!)
  await mkdir(path.join(n2!.root, 'd'))
  n2!.local.scan(['d'])
  await rmdir(path.join(n0!.root, 'd'))
  n0!.local.scan(['d'])
  // n2's version reaches n0 (concurrent with its deletion: d comes back there), then n2 removes d too.
  await deliver(n2!, n0!)
  await rmdir(path.join(n2!.root, 'd'))
  n2!.local.scan(['d'])
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(n.store.get('d')?.deleted, false, `${n.name} keeps d (each deletion was concurrent with a version of it)`)
})

test('a deletion made here, then a version it had not seen arriving: the version stays, and the peers still hear of the deletion (a file it removed is not kept anywhere)', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes
  await write(n0!, 'f.txt', 'v1')
  await settle()
  // n0 writes A; n2 then writes B (later: B wins the conflict between them); n1 has B and deletes it.
  await write(n0!, 'f.txt', 'A from n0')
  await write(n2!, 'f.txt', 'B from n2')
  await deliver(n2!, n1!)
  await unlink(path.join(n1!.root, 'f.txt'))
  n1!.local.scan(['f.txt'])
  // A reaches n1 before n1 sent its deletion: A stays there (a change concurrent with a deletion wins).
  await deliver(n0!, n1!)
  // n0 meets B first: B wins their conflict (A kept as a copy), and A is old news to n0 from then on.
  await deliver(n2!, n0!)
  assert.equal(await readFile(path.join(n0!.root, 'f.txt'), 'utf8'), 'B from n2')
  // n1 owes both its deletion of B and A: what it sends (A, having seen B) must take B away on n0 and n2.
  await settle()
  await assertSameTrees()
  for (const n of nodes) {
    const rows = n.store.all().filter((r) => !r.deleted && r.kind === 'file')
    assert.ok(rows.some((r) => r.path === 'f.txt'), `${n.name} has f.txt`)
  }
  for (const n of nodes) assert.equal(await readFile(path.join(n.root, 'f.txt'), 'utf8'), 'A from n0', `${n.name}: f.txt is A (B was deleted on n1)`)
})

test('a deletion every node has had is forgotten after mesh.tombstoneDays (never while a peer is owed it), and the path written again later still reaches the peers that remember it', async (t) => {
  const { nodes, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1] = nodes
  const aYearOn = (n: Node, days: number): Promise<number> => createTombstoneSweep({ store: n.store, days, now: () => Date.now() + 365 * 86_400_000, logger: pino({ level: 'silent' }) }).sweep()
  await write(n0!, 'f.txt', 'v1')
  await settle()
  await unlink(path.join(n0!.root, 'f.txt'))
  n0!.local.scan(['f.txt'])
  assert.equal(await aYearOn(n0!, 90), 0, 'owed to the peers: remembered, however old')
  await settle()
  assert.equal(await aYearOn(n0!, 400), 0, 'younger than tombstoneDays: remembered')
  assert.equal(await aYearOn(n0!, 90), 1)
  assert.equal(n0!.store.get('f.txt'), undefined, 'n0 forgot it')
  assert.equal(n1!.store.get('f.txt')?.deleted, true, 'n1 has not yet')
  // Written again on n0, which keeps nothing of the path now: news to n1 and n2 (its counter is from n0's clock).
  await write(n0!, 'f.txt', 'v2')
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(await readFile(path.join(n.root, 'f.txt'), 'utf8'), 'v2', n.name)
})

/** f.txt everywhere; n0 writes V0 (reaching n2 only: n1 is down); n1 writes W, later (W wins), which reaches n0; n1 deletes W. */
async function winnerThenItsDeletion ({ nodes, deliver, settle }: Mesh): Promise<void> {
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await write(n0, 'f.txt', 'v1')
  await settle()
  await write(n0, 'f.txt', 'V0 from n0')
  await deliver(n0, n2)
  await write(n1, 'f.txt', 'W from n1')
  await deliver(n1, n0)
  assert.equal(await readFile(path.join(n0.root, 'f.txt'), 'utf8'), 'W from n1', 'W won on n0, V0 went to a copy')
  await unlink(path.join(n1.root, 'f.txt'))
  n1.local.scan(['f.txt'])
}

test('a conflict\'s winner deleted by a node that had not seen the loser: the loser comes back at the path, as on a node that met the deletion first, and every node ends alike', async (t) => {
  const mesh = await threeNodes(t)
  const { nodes, deliver, settle, assertSameTrees } = mesh
  const [n0, n1, n2] = nodes
  await winnerThenItsDeletion(mesh)
  // On n2, V0 outlives n1's deletion (an update against a delete). On n0, the deletion takes W away, and V0 was
  // beaten by W alone: it must come back to the path there too.
  await deliver(n1!, n0!)
  await deliver(n1!, n2!)
  assert.equal(await readFile(path.join(n0!.root, 'f.txt'), 'utf8'), 'V0 from n0', 'V0 back on n0')
  await settle()
  await assertSameTrees()
  for (const n of nodes) {
    assert.equal(await readFile(path.join(n.root, 'f.txt'), 'utf8'), 'V0 from n0', `${n.name}: f.txt is V0`)
    assert.deepEqual(vvOf(n, 'f.txt'), vvOf(n2!, 'f.txt'), `${n.name} holds the version n2 holds`)
    const copies = n.store.all().filter((r) => r.copyOf !== null && !r.deleted)
    assert.equal(copies.length, 1, `${n.name} keeps the conflict copy of V0`)
  }
})

test('a loser that cannot be put back (its copy cannot be made): the deletion is applied and the conflict copy keeps its bytes', async (t) => {
  const mesh = await threeNodes(t)
  const { nodes: [n0, n1], deliver } = mesh
  await winnerThenItsDeletion(mesh)
  // Where the copy would go is a file: the copy fails, as on a full disk.
  const staging = path.join(n0!.root, '.syncplane', 'staging')
  await rm(staging, { recursive: true, force: true })
  await writeFile(staging, 'in the way')
  await deliver(n1!, n0!)
  assert.equal(n1!.store.owed('n0').count, 0, 'the deletion was taken')
  assert.equal(n0!.store.get('f.txt')?.deleted, true)
  const [copy] = n0!.store.all().filter((r) => r.copyOf !== null && !r.deleted)
  assert.equal(await readFile(path.join(n0!.root, copy!.path), 'utf8'), 'V0 from n0', 'V0 kept in its copy')
})

test('a directory that beat a file, removed by a node that had not seen the file: the file comes back at the path on every node', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes
  await write(n0!, 'p', 'v1')
  await settle()
  // n0 writes V0 (reaching n2 only); n1 makes p a directory, which beats the file on n0, then removes it again.
  await write(n0!, 'p', 'V0 from n0')
  await deliver(n0!, n2!)
  await unlink(path.join(n1!.root, 'p'))
  n1!.local.scan(['p'])
  await mkdir(path.join(n1!.root, 'p'))
  n1!.local.scan(['p'])
  await deliver(n1!, n0!)
  assert.equal(n0!.store.get('p')?.kind, 'dir', 'the directory took the path on n0')
  await rmdir(path.join(n1!.root, 'p'))
  n1!.local.scan(['p'])
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(await readFile(path.join(n.root, 'p'), 'utf8'), 'V0 from n0', `${n.name}: p is V0`)
})

test('a conflict\'s loser that its own node deleted, then the winner deleted: the path stays deleted on every node, though the loser\'s deletion had reached one node only inside what the winner had seen', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await write(n0, 'f', 'B from n0')
  await deliver(n0, n2)
  await write(n1, 'f', 'A from n1')
  await deliver(n1, n2)
  assert.equal(await readFile(path.join(n2.root, 'f'), 'utf8'), 'A from n1', 'A beat B on n2, B went to a copy')
  // n0 deletes B; on n2 that deletion meets A as an update against a delete. Then n1 deletes A.
  await erase(n0, 'f')
  await deliver(n0, n2)
  await erase(n1, 'f')
  await deliver(n1, n2)
  await settle()
  await assertSameTrees()
  for (const n of nodes) {
    assert.equal(n.store.get('f')?.deleted, true, `${n.name}: f stays deleted (B was deleted by its node, A by its own)`)
    assert.equal(n.store.all().filter((r) => r.copyOf !== null && !r.deleted).length, 1, `${n.name} keeps B's conflict copy`)
  }
})

test('a file written on a node that had deleted the directory at its path: the directory goes on every node, the file takes the path', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await makeDir(n2, 'f')
  await write(n0, 'f', 'A from n0')
  await write(n1, 'f', 'B from n1')
  await deliver(n2, n0)
  assert.equal(n0.store.get('f')?.kind, 'dir', 'the directory took the path on n0, A went to a copy')
  // n2 removes its directory; B meets that deletion on n2 as an update against a delete, and reaches n0 from n2.
  await rm(path.join(n2.root, 'f'), { recursive: true })
  n2.local.scan(['f', 'f/inner'])
  await deliver(n1, n2)
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(await readFile(path.join(n.root, 'f'), 'utf8'), 'B from n1', `${n.name}: f is B`)
})

test('a deletion known to a node only as part of what a version it holds had seen: the version it deleted, beaten there, does not come back when that version goes', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await write(n0, 'f', 'A from n0')
  await deliver(n0, n2)
  await erase(n0, 'f')
  // n0's deletion of A meets B as an update against a delete, so it travels only in what B has seen on n0.
  await write(n1, 'f', 'B from n1')
  await deliver(n1, n0)
  await deliver(n1, n2)
  assert.equal(await readFile(path.join(n2.root, 'f'), 'utf8'), 'B from n1', 'B beat A on n2, A went to a copy')
  await write(n1, 'f', 'B again')
  await deliver(n2, n1)
  await erase(n1, 'f')
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(n.store.get('f')?.deleted, true, `${n.name}: f stays deleted`)
})

test('a file written where a node removed a directory whose content it had never seen: the directory comes back around that content on every node, the file kept as a conflict copy, and nothing is traded back and forth', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await write(n0, 'g', 'G0')
  await makeDir(n1, 'g')
  await deliver(n1, n0)
  // n0 owes g (its own write, now beaten by the directory): n2 hears of the directory from n0, not of what is in it.
  await deliver(n0, n2)
  assert.equal(n2.store.get('g')?.kind, 'dir', 'n2 holds the directory, empty')
  await rm(path.join(n2.root, 'g'), { recursive: true })
  n2.local.scan(['g'])
  await write(n2, 'g', 'G2')
  await settle()
  await assertSameTrees()
  for (const n of nodes) {
    assert.equal(await readFile(path.join(n.root, 'g', 'inner'), 'utf8'), 'inside', `${n.name}: g/inner is there`)
    const copies = n.store.all().filter((r) => r.copyOf !== null && !r.deleted).map((r) => r.origin).sort()
    assert.deepEqual(copies, ['n0', 'n2'], `${n.name}: both files kept as conflict copies`)
  }
})

test('a conflict\'s loser deleted by a third node, known to the loser\'s node only through the winner it holds: the loser stays out when the winner is deleted', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await write(n0, 'f', 'L from n0')
  await deliver(n0, n1)
  await write(n2, 'f', 'W from n2')
  await deliver(n2, n0)
  assert.equal(await readFile(path.join(n0.root, 'f'), 'utf8'), 'W from n2', 'W beat L on n0, L went to a copy')
  // n1 deletes L, which it had; W meets that deletion on n1 as an update against a delete, and n1's row for W,
  // which has seen the deletion, reaches n0, which holds W already.
  await erase(n1, 'f')
  await deliver(n2, n1)
  await deliver(n1, n0)
  await erase(n2, 'f')
  await settle()
  await assertSameTrees()
  for (const n of nodes) {
    assert.equal(n.store.get('f')?.deleted, true, `${n.name}: f stays deleted`)
    assert.equal(n.store.all().filter((r) => r.copyOf !== null && !r.deleted).length, 1, `${n.name} keeps L's conflict copy`)
  }
})

test('a directory that beat a file, deleted since, sent on by a node that had not heard of the deletion: the file it beat keeps the path on every node', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await write(n1, 'f', 'A from n1')
  await makeDir(n2, 'f')
  await deliver(n2, n1)
  assert.equal(n1.store.get('f')?.kind, 'dir', 'the directory beat A on n1, A went to a copy')
  // n0's own write B loses to the directory there too, so what n0 has seen of f is news to n1 when it comes.
  await write(n0, 'f', 'B from n0')
  await rm(path.join(n2.root, 'f'), { recursive: true })
  n2.local.scan(['f', 'f/inner'])
  await deliver(n1, n0)
  assert.equal(n0.store.get('f')?.kind, 'dir', 'the directory beat B on n0')
  // The directory's deletion brings A back on n1 (it had not seen A); n0 still holds the directory and sends it.
  await deliver(n2, n1)
  assert.equal(await readFile(path.join(n1.root, 'f'), 'utf8'), 'A from n1', 'A is back on n1')
  await deliver(n0, n1)
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(await readFile(path.join(n.root, 'f'), 'utf8'), 'A from n1', `${n.name}: f is A`)
})

test('a version deleted by another node, sent on by a node that had not heard of that deletion: the deletion of both is news to the peers still holding it, and the path ends deleted everywhere', async (t) => {
  const { nodes, deliver, settle, assertSameTrees } = await threeNodes(t)
  const [n0, n1, n2] = nodes as [Node, Node, Node]
  await write(n1, 'g', 'A from n1')
  await deliver(n1, n2)
  await erase(n2, 'g')
  // B meets n2's deletion of A as an update against a delete: the deletion is known on n2 only inside what B has seen.
  await write(n0, 'g', 'B from n0')
  await deliver(n0, n2)
  assert.equal(await readFile(path.join(n2.root, 'g'), 'utf8'), 'B from n0', 'B stays on n2')
  // n0 deletes B, never having seen A; A then meets that deletion on n0 as an update against a delete.
  await erase(n0, 'g')
  await deliver(n1, n0)
  assert.equal(await readFile(path.join(n0.root, 'g'), 'utf8'), 'A from n1', 'A stays on n0')
  await deliver(n0, n2)
  await settle()
  await assertSameTrees()
  for (const n of nodes) assert.equal(n.store.get('g')?.deleted, true, `${n.name}: g stays deleted (A by n2, B by n0)`)
})
