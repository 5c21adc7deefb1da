import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startMesh, waitConverged, type MeshNode } from '../helpers/mesh.js'
import { convergedOrExplain, pause, treeContents } from '../helpers/mesh-tools.js'
import { meshRows } from '../helpers/mesh-tools.js'
import { waitFor } from '../helpers/wait-for.js'

/** The paths holding a version of `rel`: itself and its conflict copies (copies of copies too). */
function versionsOf (tree: Map<string, string>, rel: string): Map<string, string> {
  const dot = rel.lastIndexOf('.')
  const stem = rel.slice(0, dot)
  const out = new Map<string, string>()
  for (const [p, content] of tree) if (p === rel || (p.startsWith(`${stem}.sync-conflict-`) && p.endsWith(rel.slice(dot)))) out.set(p, content)
  return out
}

/** How long a write on `from` takes to show on `to` (the median of a few). */
async function replicationLatency (from: MeshNode, to: MeshNode): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < 3; i++) {
    const rel = `calibrate-${i}.txt`
    const content = `calibrate ${i} ${randomBytes(4).toString('hex')}`
    const t0 = Date.now()
    await writeFile(path.join(from.root, rel), content)
    await waitFor(async () => (await readFile(path.join(to.root, rel), 'utf8').catch(() => '')) === content, { intervalMs: 5, message: 'calibration write arrives' })
    samples.push(Date.now() - t0)
  }
  return samples.sort((a, b) => a - b)[1]!
}

test('the in-place race: a peer\'s version arrives while a local writer rewrites the path; the local bytes always survive, on every node', async (t) => {
  const ITERATIONS = 200
  const nodes = await startMesh(t, { nodes: 3 })
  const [n0, n1] = nodes as [MeshNode, MeshNode, MeshNode]
  await mkdir(path.join(n0.root, 'race'))
  for (let i = 0; i < ITERATIONS; i++) await writeFile(path.join(n0.root, 'race', `p${i}.bin`), `original ${i}\n`)
  await convergedOrExplain(nodes)
  const latency = await replicationLatency(n1, n0)
  t.diagnostic(`replication n1 → n0 takes about ${latency} ms`)

  const locals: string[] = []
  const peers: string[] = []
  /** How each iteration met the peer's version: opened after it was in place, or had its file replaced under it while writing. */
  const met = { after: 0, displaced: 0, before: 0 }
  const iteration = async (i: number): Promise<void> => {
    const rel = path.join('race', `p${i}.bin`)
    peers[i] = `PEER-VERSION ${i} ${randomBytes(6).toString('hex')}\n`
    const chunks = Array.from({ length: randomInt(2, 7) }, (_, c) => `LOCAL ${i} chunk ${c} ${randomBytes(2_000).toString('hex')}\n`)
    locals[i] = chunks.join('')
    // Three ways to meet the peer's version, a third of the iterations each:
    // - seen: the writer writes its first chunk; once that version reached n1, n1 writes (its version has seen the local
    //   one and replaces it on n0), and the writer goes on only once it did: the E11 race, into a displaced file;
    // - concurrent: the writer opens before n1 writes, writes its first chunk, pauses until n1's version arrived (replaced
    //   the file or was kept as a conflict copy), then writes the rest;
    // - random: the writer opens at a random moment from before n1 writes until well after its version arrived.
    const mode = (['seen', 'concurrent', 'random'] as const)[i % 3]!
    const offset = mode === 'random' ? randomInt(-latency, latency * 4 + 1) : mode === 'concurrent' ? -randomInt(0, latency + 1) : 0
    const file = path.join(n0.root, rel)
    let firstChunk: () => void = () => undefined
    const firstChunkWritten = new Promise<void>((resolve) => { firstChunk = resolve })
    await Promise.all([
      (async () => {
        if (mode === 'seen') {
          await firstChunkWritten
          await until(async () => (await readFile(path.join(n1.root, rel), 'utf8').catch(() => '')) === chunks[0])
        } else {
          await pause(Math.max(0, -offset))
        }
        await writeFile(path.join(n1.root, rel), peers[i]!)
      })(),
      (async () => {
        await pause(Math.max(0, offset))
        const before = await readFile(file, 'utf8').catch(() => '')
        const fh = await open(file, 'w')
        try {
          const mine = (await fh.stat()).ino
          for (const [c, chunk] of chunks.entries()) {
            await fh.write(chunk)
            if (c === 0 && mode !== 'random') {
              firstChunk()
              // Until the peer's version reached n0: the file at the path is another one, or the version is a conflict copy.
              await until(async () => (await stat(file).then((st) => st.ino, () => -1)) !== mine ||
                (await readdir(path.join(n0.root, 'race'))).some((n) => n.startsWith(`p${i}.sync-conflict-`)))
            } else {
              // Pauses up to the replication time, so that the peer's version may land in the middle of one.
              await pause(randomInt(0, mode === 'random' ? latency + 1 : 50))
            }
          }
          const now = await stat(file).then((st) => st.ino, () => -1)
          if (before === peers[i]) met.after++
          else if (now !== mine) met.displaced++
          else met.before++
        } finally {
          await fh.close()
        }
      })(),
    ])
  }
  /** Polls `probe` for up to 15 s; goes on either way (the iteration then meets the mesh some other way). */
  const until = (probe: () => Promise<boolean>): Promise<unknown> => waitFor(probe, { timeoutMs: 15_000, intervalMs: 20 }).catch(() => undefined)
  // Staggered, a few at a time, so that each meets the mesh in another state.
  await Promise.all(Array.from({ length: ITERATIONS }, async (_, i) => {
    await pause(i * 50)
    await iteration(i)
  }))
  t.diagnostic(`the local writer opened after the peer's version was in place in ${met.after} iterations, had its file replaced while writing in ${met.displaced}, neither in ${met.before}`)

  await convergedOrExplain(nodes, 120_000)
  let raced = 0
  let peerKept = 0
  for (const node of nodes) {
    const tree = await treeContents(node)
    for (let i = 0; i < ITERATIONS; i++) {
      const rel = `race/p${i}.bin`
      const versions = versionsOf(tree, rel)
      const holding = [...versions].filter(([, content]) => content === locals[i]).map(([p]) => p)
      assert.ok(holding.length > 0, `${node.name}: the local bytes of iteration ${i} survive (versions: ${[...versions].map(([p, c]) => `${p}=${c.slice(0, 24).trim()}…`).join(', ')})`)
      if (node === n0) {
        if (versions.size > 1) raced++
        if ([...versions.values()].includes(peers[i]!)) peerKept++
      }
    }
  }
  t.diagnostic(`${ITERATIONS} iterations: ${raced} ended with conflict copies, the peer's version is kept in ${peerKept}`)
})

test('a writer that pauses longer than any timer, its file replaced by a peer\'s version under it: the node is not idle meanwhile, and its bytes become a conflict copy everywhere', async (t) => {
  const nodes = await startMesh(t, { nodes: 2 })
  const [n0, n1] = nodes as [MeshNode, MeshNode]
  const rel = 'slow.bin'
  await writeFile(path.join(n0.root, rel), 'base')
  await convergedOrExplain(nodes)
  const fh = await open(path.join(n0.root, rel), 'w')
  t.after(() => fh.close().catch(() => undefined))
  await fh.write('first;')
  await waitFor(async () => (await readFile(path.join(n1.root, rel), 'utf8').catch(() => '')) === 'first;', { intervalMs: 20, message: 'n0\'s version reaches n1' })
  await writeFile(path.join(n1.root, rel), 'PEER-VERSION')
  await waitFor(async () => (await readFile(path.join(n0.root, rel), 'utf8').catch(() => '')) === 'PEER-VERSION', { intervalMs: 20, message: 'n1\'s version replaces n0\'s' })
  // Longer than the 5 s a displaced file used to wait for its writer: n0 still holds it, and says it is not done.
  await pause(7_000)
  assert.equal((await n0.api('/v1/mesh')).body.idle, false, 'n0 is not idle while the displaced file is held')
  await fh.write('second;')
  await fh.close()
  await convergedOrExplain(nodes)
  for (const node of nodes) {
    const versions = versionsOf(await treeContents(node), rel)
    assert.deepEqual(new Set(versions.values()), new Set(['PEER-VERSION', 'first;second;']), `${node.name}: ${[...versions.keys()].join(', ')}`)
  }
})

/**
 * Rewrites `file` in place on one node and says what it overwrote: opened
 * without truncation, read, truncated and written through the same
 * descriptor, so what it read is exactly what its write replaced.
 */
async function overwrite (file: string, content: string): Promise<string | null> {
  for (;;) {
    let fh
    try {
      fh = await open(file, 'r+')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      // Moved aside this instant (a conflict copy being made): a new file, then.
      try {
        await writeFile(file, content, { flag: 'wx' })
        return null
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        continue
      }
    }
    try {
      const seen = (await fh.readFile()).toString('utf8')
      await fh.truncate(0)
      await fh.write(content, 0)
      return seen
    } finally {
      await fh.close()
    }
  }
}

interface Version { file: string, node: string, content: string, seen: string | null }

/** Every version written survives at its path or in a conflict copy, unless a writer overwrote it knowingly (it read it first). */
async function checkSurvivors (nodes: readonly MeshNode[], tree: Map<string, string>, versions: readonly Version[], where: string): Promise<number> {
  const overwritten = new Set(versions.map((v) => v.seen))
  let copies = 0
  for (const v of versions) {
    const found = versionsOf(tree, v.file)
    copies = Math.max(copies, found.size - 1)
    if (overwritten.has(v.content) || [...found.values()].includes(v.content)) continue
    const writes = versions.filter((w) => w.file === v.file).map((w) => `${w.node} wrote ${w.content.trim()} having read ${w.seen?.trim() ?? 'nothing (a new file)'}`)
    assert.fail(`${where}: ${v.node}'s version of ${v.file} survives (${v.content.trim()}); there: ${[...found].map(([p, c]) => `${p}=${c.trim()}`).join(', ')}\n` +
      `the round's writes: ${writes.join('; ')}\nits bytes now: ${(await holding(nodes, v.content)).join(', ') || 'nowhere'}\n${meshRows(nodes, [v.file])}`)
  }
  return copies
}

/** Every file under the nodes' roots (.syncplane/ included: the trash, displaced files) holding `content`. */
async function holding (nodes: readonly MeshNode[], content: string): Promise<string[]> {
  const out: string[] = []
  for (const node of nodes) {
    for (const entry of await readdir(node.root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue
      const file = path.join(entry.parentPath, entry.name)
      if ((await readFile(file, 'utf8').catch(() => '')) === content) out.push(`${node.name}:${path.relative(node.root, file)}`)
    }
  }
  return out
}

test('three nodes overwrite the same files within 0.4 s, round after round, and conflicts on conflict copies: every version survives, named alike everywhere', async (t) => {
  const FILES = 20
  const ROUNDS = 5
  const nodes = await startMesh(t, { nodes: 3 })
  const [n0, n1, n2] = nodes as [MeshNode, MeshNode, MeshNode]
  await mkdir(path.join(n0.root, 'ow'))
  for (let f = 0; f < FILES; f++) await writeFile(path.join(n0.root, 'ow', `f${f}.txt`), `f${f} initial\n`)
  await convergedOrExplain(nodes)

  const all: Version[] = []
  let lastTree = new Map<string, string>()
  for (let round = 0; round < ROUNDS; round++) {
    const versions: Version[] = []
    await Promise.all(Array.from({ length: FILES }, (_, f) => Promise.all(nodes.map(async (node) => {
      await pause(randomInt(0, 400))
      const file = `ow/f${f}.txt`
      const content = `f${f} round ${round} from ${node.name} ${randomBytes(3).toString('hex')}\n`
      const seen = await overwrite(path.join(node.root, file), content)
      versions.push({ file, node: node.name, content, seen })
    }))))
    await waitConverged(nodes)
    lastTree = await treeContents(n2)
    await checkSurvivors(nodes, lastTree, versions, `round ${round}`)
    all.push(...versions)
  }
  const copies = [...lastTree.keys()].filter((p) => p.includes('.sync-conflict-'))
  const overwrittenKnowingly = all.filter((v) => all.some((w) => w.seen === v.content)).length
  t.diagnostic(`${FILES * ROUNDS} three-way overwrites: ${copies.length} conflict copies, ${overwrittenKnowingly} of ${all.length} versions overwritten by a writer that had read them`)
  assert.ok(copies.length > 0, 'some writes met as conflicts')

  // Conflicts on conflict copies: two nodes write one copy at once.
  const targets = copies.slice(0, 5)
  const onCopies: Version[] = []
  await Promise.all(targets.flatMap((copy) => [n0, n1].map(async (node) => {
    await pause(randomInt(0, 100))
    const content = `copy ${copy} rewritten on ${node.name} ${randomBytes(3).toString('hex')}\n`
    onCopies.push({ file: copy, node: node.name, content, seen: await overwrite(path.join(node.root, copy), content) })
  })))
  await convergedOrExplain(nodes)
  const tree = await treeContents(n1)
  await checkSurvivors(nodes, tree, onCopies, 'conflict copies')
  const copiesOfCopies = [...tree.keys()].filter((p) => p.split('.sync-conflict-').length > 2)
  t.diagnostic(`${targets.length} conflict copies written on two nodes at once: ${copiesOfCopies.length} copies of copies`)
  const listed = (await n0.api('/v1/mesh/conflicts?limit=1000')).body
  assert.ok(listed.total > 0)
})
