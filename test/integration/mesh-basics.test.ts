import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startMesh, waitConverged } from '../helpers/mesh.js'
import { runCommand } from '../helpers/run-command.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

const HOSTILE = ['with space.txt', '-leading-dash', 'new\nline', 'ünïcødé-ñ.txt', 'star*.txt', 'back\\slash', '--rsh=evil', '$(echo hi)', ' trailing ']

test('a file written on any node reaches every node, hostile names included, and nothing is sent again afterwards', async (t) => {
  const nodes = await startMesh(t, { nodes: 3 })
  for (const [i, name] of HOSTILE.entries()) await writeFile(path.join(nodes[i % 3]!.root, name), `content of ${name}`)
  await mkdir(path.join(nodes[1]!.root, 'a/b/c'), { recursive: true })
  await writeFile(path.join(nodes[1]!.root, 'a/b/c/deep.txt'), 'deep')
  const tree = await waitConverged(nodes)
  for (const name of HOSTILE) assert.ok(tree.has(name), `${JSON.stringify(name)} replicated`)
  assert.equal(tree.get('a/b/c/deep.txt')?.size, 4)
  const sent = async () => (await Promise.all(nodes.map(async (n) => (await n.api('/v1/mesh')).body.peers.reduce((s: number, p: any) => s + p.batchesSent, 0)))).reduce((a, b) => a + b, 0)
  const before = await sent()
  // Two rescans later, still nothing: what arrived from a peer is never originated again.
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  assert.equal(await sent(), before)
})

test('deletes and renames propagate, and a deleted file does not come back', async (t) => {
  const nodes = await startMesh(t, { nodes: 3 })
  await mkdir(path.join(nodes[0]!.root, 'dir'))
  await writeFile(path.join(nodes[0]!.root, 'dir/f.txt'), 'f')
  await writeFile(path.join(nodes[0]!.root, 'gone.txt'), 'g')
  await waitConverged(nodes)
  await rm(path.join(nodes[1]!.root, 'gone.txt'))
  await rename(path.join(nodes[2]!.root, 'dir'), path.join(nodes[2]!.root, 'moved'))
  const tree = await waitConverged(nodes)
  assert.deepEqual([...tree.keys()].sort(), ['moved', 'moved/f.txt'])
  await nodes[1]!.stop()
  await nodes[1]!.start()
  const after = await waitConverged(nodes)
  assert.deepEqual([...after.keys()].sort(), ['moved', 'moved/f.txt'])
})

test('files written while a node starts reach every node, and the node is idle after without any later change', async (t) => {
  const nodes = await startMesh(t, { nodes: 2 })
  const n1 = nodes[1]!
  await n1.stop()
  // Written until its API answers: some before its watcher, some while its watcher and mesh start.
  let starting = true
  let written = 0
  const writer = (async () => {
    while (starting) {
      await writeFile(path.join(n1.root, `during-start-${written++}.txt`), 'x')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  await n1.start()
  starting = false
  await writer
  const tree = await waitConverged(nodes, 20_000)
  for (let i = 0; i < written; i++) assert.ok(tree.has(`during-start-${i}.txt`), `during-start-${i}.txt replicated`)
})

test('the same new path written on two nodes: one winner and one identical conflict copy on every node', async (t) => {
  const nodes = await startMesh(t, { nodes: 3 })
  await Promise.all([
    writeFile(path.join(nodes[0]!.root, 'report.pdf'), 'version from n0'),
    writeFile(path.join(nodes[1]!.root, 'report.pdf'), 'version from n1, longer'),
  ])
  const tree = await waitConverged(nodes)
  const names = [...tree.keys()].sort()
  assert.equal(names.length, 2, names.join(', '))
  const copy = names.find((n) => n.includes('.sync-conflict-'))!
  assert.match(copy, /^report\.sync-conflict-\d{8}-\d{6}-\d{3}-n[01]\.pdf$/)
  const contents = new Set([await readFile(path.join(nodes[2]!.root, 'report.pdf'), 'utf8'), await readFile(path.join(nodes[2]!.root, copy), 'utf8')])
  assert.deepEqual(contents, new Set(['version from n0', 'version from n1, longer']))
  // Every node lists it, the one that only received the copy too.
  for (const node of nodes) {
    const conflicts = (await node.api('/v1/mesh/conflicts')).body
    assert.equal(conflicts.total, 1, node.name)
    assert.equal(conflicts.items[0].copy, copy)
  }
  const cli = await runCommand(process.execPath, [CLI, 'conflicts', '--url', nodes[2]!.url])
  assert.equal(cli.code, 0, cli.stderr)
  assert.ok(cli.stdout.includes(JSON.stringify(copy)), cli.stdout)
  const peers = await runCommand(process.execPath, [CLI, 'mesh', '--url', nodes[0]!.url])
  assert.match(peers.stdout, /node n0: idle/)
  assert.match(peers.stdout, /n1 +idle +yes +0/)
})

test('a flush right after a start answers once what was written while the node was down is on its peer', async (t) => {
  const nodes = await startMesh(t, { nodes: 2 })
  const [n0, n1] = [nodes[0]!, nodes[1]!]
  await n0.stop()
  // Enough for the start's read of the whole tree to take several slices of the event loop.
  for (let d = 0; d < 200; d++) {
    await mkdir(path.join(n0.root, `down-${d}`))
    for (let f = 0; f < 10; f++) await writeFile(path.join(n0.root, `down-${d}`, `${f}.txt`), `${d}/${f}`)
  }
  await n0.start()
  const flush = await n0.api('/v1/flush', { method: 'POST', body: { timeout: 60 } })
  assert.equal(flush.status, 200, JSON.stringify(flush.body))
  for (let d = 0; d < 200; d++) {
    for (let f = 0; f < 10; f++) assert.equal(await readFile(path.join(n1.root, `down-${d}`, `${f}.txt`), 'utf8'), `${d}/${f}`)
  }
})
