import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { startMesh, waitConverged, type MeshNode } from '../helpers/mesh.js'
import { unwatchedDirs } from '../helpers/inotify-watches.js'
import { runChurn, seedTree, type ChurnStats } from '../helpers/mesh-churn.js'
import { clock, createOpLog, meshSeed, type OpLog } from '../helpers/mesh-op-log.js'
import { freezeNode, killDaemon9, serviceTree } from '../helpers/mesh-processes.js'
import { meshRows } from '../helpers/mesh-tools.js'
import { describeVerdict, judge, readFinal, type FinalFile, type Verdict } from '../helpers/mesh-verdict.js'
import { nodeWriter, type NodeWriter } from '../helpers/mesh-writer.js'

// The mesh's correctness under churn, by an op-log oracle (test/helpers/mesh-churn.ts).
// Every test prints its seed; replay one with SYNCPLANE_MESH_SEED=<seed>.

const CONFLICT_DIR = 'conflicts'
const FIXED_DIR = 'fixed'
/**
 * The mesh's periodic rescan: an hour away in the churn of three writers, so
 * the watcher (with the reads again after changes and the sweeps after a
 * directory went) finds every change alone; 5 s with a node killed or cut
 * off, so rescans run all along and must cause no echo either.
 * SYNCPLANE_MESH_RESCAN_SEC sets both.
 */
const RESCAN_SEC = Number(process.env.SYNCPLANE_MESH_RESCAN_SEC ?? 5)
const WATCHER_ALONE_RESCAN_SEC = Number(process.env.SYNCPLANE_MESH_RESCAN_SEC ?? 3_600)

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface Sent { batches: number, files: number }

async function sentTotals (nodes: readonly MeshNode[]): Promise<Sent> {
  const all = await Promise.all(nodes.map(async (n) => (await n.api('/v1/mesh')).body.peers as Array<{ batchesSent: number, filesSent: number }>))
  return all.flat().reduce((s, p) => ({ batches: s.batches + p.batchesSent, files: s.files + p.filesSent }), { batches: 0, files: 0 })
}

/** Each node's mesh status and the tail of its output, for a failure. */
async function meshState (nodes: readonly MeshNode[]): Promise<string> {
  const parts = await Promise.all(nodes.map(async (n) => {
    const status = await n.api('/v1/mesh').then((r) => JSON.stringify(r.body), (err: Error) => `unreachable: ${err.message}`)
    return `--- ${n.name}: ${status}\n${n.output().slice(-3_000)}`
  }))
  return parts.join('\n')
}

async function converge (t: TestContext, nodes: readonly MeshNode[], timeoutMs: number): Promise<void> {
  try {
    await waitConverged(nodes, timeoutMs)
  } catch (err) {
    t.diagnostic(await meshState(nodes))
    // waitConverged's message names the first differences only: list them all, with what each node's database says of them.
    const trees = await Promise.all(nodes.map((n) => readFinal(n)))
    const differing = [...new Set(trees.flatMap((tree) => [...tree.keys()]))]
      .filter((p) => trees.some((tree) => JSON.stringify(tree.get(p)) !== JSON.stringify(trees[0]!.get(p)))).sort()
    const show = (f: FinalFile | null | undefined): string => (f === undefined ? 'absent' : f === null ? 'dir' : `${f.hash.slice(0, 12)} uid=${f.uid}`)
    for (const n of nodes) {
      const pid = serviceTree(n)[0]
      if (pid !== undefined) console.log(`${n.name}: directories no inotify watch covers: ${JSON.stringify(await unwatchedDirs(pid, n.root, (rel) => rel === '.syncplane'))}`)
    }
    console.log(`${differing.length} paths differ:\n${differing.slice(0, 30).map((p) => `  ${JSON.stringify(p)}: ${trees.map((tree, i) => `${nodes[i]!.name} ${show(tree.get(p))}`).join(', ')}`).join('\n')}\n${meshRows(nodes, differing.slice(0, 30))}`)
    throw err
  }
}

interface Setup { nodes: MeshNode[], writers: NodeWriter[], log: OpLog, seed: number }

/** 3 nodes, the start state (5 directories, 40 files) written on n0 and replicated everywhere. */
async function setUp (t: TestContext, rescanSec: number): Promise<Setup> {
  const seed = meshSeed()
  t.diagnostic(`seed ${seed} (replay: SYNCPLANE_MESH_SEED=${seed})`)
  // SYNCPLANE_MESH_LOG=info (or debug) has the services log more; what they said of a violation's paths is printed with it.
  const nodes = await startMesh(t, { nodes: 3, mesh: { rescanSec }, config: { logLevel: process.env.SYNCPLANE_MESH_LOG ?? 'warn' } })
  const log = createOpLog()
  const writers = nodes.map((n, i) => nodeWriter(n, log, seed + i * 7_919))
  await seedTree(writers[0]!, ['d0', 'd1', 'd2', CONFLICT_DIR, FIXED_DIR], 40)
  await converge(t, nodes, 30_000)
  return { nodes, writers, log, seed }
}

/**
 * Runs `body` on a fresh mesh and stops every service before the mesh
 * helper's teardown does: a mesh node can take longer to drain than that
 * teardown waits (a batch in flight to a peer that is stopping too), and
 * after its SIGKILL, awaiting the exit of an unref'd child holds nothing
 * open, so node:test cancelled the test ("Promise resolution is still
 * pending but the event loop has already resolved").
 */
async function withMesh (t: TestContext, rescanSec: number, body: (setup: Setup) => Promise<void>): Promise<void> {
  const setup = await setUp(t, rescanSec)
  try {
    await body(setup)
  } finally {
    const keepAlive = setInterval(() => undefined, 1_000)
    try {
      await Promise.all(setup.nodes.map((n) => n.stop()))
    } finally {
      clearInterval(keepAlive)
    }
  }
}

/** Judges the end state, prints the figures, and fails on any violation (each one printed). */
async function verdictOf (t: TestContext, setup: Setup, stats: ChurnStats, figures: string): Promise<Verdict> {
  const finals = new Map(await Promise.all(setup.nodes.map(async (n) => [n.name, await readFinal(n)] as const)))
  const verdict = judge(setup.log, finals)
  const text = describeVerdict(verdict)
  t.diagnostic(`seed ${setup.seed}: ${figures}; writer ops ${stats.ops} (missed ${stats.misses}) ${JSON.stringify(stats.byKind)}`)
  t.diagnostic(text.split('\n')[0]!)
  // SYNCPLANE_MESH_OPLOG=<file>: the whole op log, to read beside the services' logs.
  if (process.env.SYNCPLANE_MESH_OPLOG !== undefined) await writeFile(process.env.SYNCPLANE_MESH_OPLOG, JSON.stringify({ seed: setup.seed, ops: setup.log.ops, forced: setup.log.forced }))
  if (text.includes('\n')) console.log(`mesh churn, seed ${setup.seed}:\n${text}\nthe nodes' rows of those paths:\n${meshRows(setup.nodes, verdict.suspects.slice(0, 40))}\nwhat the services logged of them:\n${logsOf(setup.nodes, verdict.suspects.slice(0, 40))}`)
  assert.deepEqual(stats.errors, [], 'the writers met no unexpected error')
  assert.equal(verdict.lost.length, 0, `lost uploads (seed ${setup.seed}):\n${verdict.lost.slice(0, 10).join('\n')}`)
  assert.equal(verdict.lostVersions.length, 0, `lost versions (seed ${setup.seed}):\n${verdict.lostVersions.slice(0, 10).join('\n')}`)
  assert.deepEqual(verdict.resurrected, { onDeleter: [], notPropagated: [] }, `resurrected (seed ${setup.seed})`)
  assert.deepEqual(verdict.conflicts.bad, [], `forced conflicts (seed ${setup.seed})`)
  assert.equal(verdict.conflicts.ok, verdict.conflicts.concurrent)
  assert.deepEqual(verdict.unknown, [], `files whose bytes no op wrote (seed ${setup.seed})`)
  return verdict
}

function logsOf (nodes: readonly MeshNode[], paths: readonly string[]): string {
  const wanted = paths.map((p) => JSON.stringify(p).slice(1, -1))
  return nodes.flatMap((n) => n.output().split('\n').filter((line) => wanted.some((w) => line.includes(w))).map((line) => `${n.name}: ${line}`)).join('\n')
}

/** After quiescence nothing moves: no batch, no file, no change to any tree, across several rescans. */
async function assertQuiet (t: TestContext, nodes: readonly MeshNode[], ms: number): Promise<void> {
  const before = await sentTotals(nodes)
  const trees = await Promise.all(nodes.map((n) => readFinal(n)))
  await sleep(ms)
  const after = await sentTotals(nodes)
  const treesAfter = await Promise.all(nodes.map((n) => readFinal(n)))
  t.diagnostic(`quiet ${ms / 1000} s: batches ${before.batches} -> ${after.batches}, files ${before.files} -> ${after.files}`)
  assert.deepEqual(after, before, 'no transfer after quiescence (no echo, rescans included)')
  for (const [i, tree] of trees.entries()) assert.deepEqual(treesAfter[i], tree, `${nodes[i]!.name}'s tree did not change after quiescence`)
}

test('mesh churn: 3 writers for 60 s with 50 forced conflicts and no periodic rescan; identical trees, nothing lost or resurrected, both sides of every conflict, no echo', { timeout: 240_000 }, async (t) => {
  await withMesh(t, WATCHER_ALONE_RESCAN_SEC, async (setup) => {
    const { nodes, writers, log, seed } = setup
    const stats = await runChurn(writers, log, { seed, durationMs: 60_000, conflicts: 50, conflictDir: CONFLICT_DIR, reserved: [FIXED_DIR] })
    const stopped = clock()
    await converge(t, nodes, 30_000)
    const convergedMs = clock() - stopped
    const sent = await sentTotals(nodes)
    await verdictOf(t, setup, stats, `converged ${(convergedMs / 1000).toFixed(1)} s after the writers stopped; ${sent.batches} batches, ${sent.files} files sent`)
    await assertQuiet(t, nodes, 30_000)
  })
})

test('mesh churn with a node killed (-9, service and rsync daemon) mid-churn, written to while down, back 15 s later', { timeout: 240_000 }, async (t) => {
  await withMesh(t, RESCAN_SEC, async (setup) => {
    const { nodes, writers, log, seed } = setup
    const victim = nodes[1]!
    const churn = runChurn(writers, log, { seed, durationMs: 40_000, conflicts: 20, conflictDir: CONFLICT_DIR, reserved: [FIXED_DIR] })
    await sleep(10_000)
    const killedAt = clock()
    killDaemon9(victim)
    await victim.kill()
    const before = log.ops.length
    await sleep(15_000)
    const whileDown = log.ops.slice(before).filter((o) => o.node === victim.name && o.writes.length > 0).length
    const restartAt = clock()
    await victim.daemon.restart()
    await victim.start()
    const backAt = clock()
    const stats = await churn
    const stopped = clock()
    await converge(t, nodes, 30_000)
    const convergedMs = clock() - stopped
    const sent = await sentTotals(nodes)
    await verdictOf(t, setup, stats, `${victim.name} killed for ${((restartAt - killedAt) / 1000).toFixed(1)} s (${whileDown} writes to its tree meanwhile), answering again ${((backAt - restartAt) / 1000).toFixed(1)} s after its restart; converged ${(convergedMs / 1000).toFixed(1)} s after the writers stopped; ${sent.batches} batches, ${sent.files} files sent since the restart`)
    await assertQuiet(t, nodes, 30_000)
  })
})

test('mesh churn with a node unreachable for 30 s (service and daemon stopped with SIGSTOP): it converges within 60 s of its return, a file deleted meanwhile elsewhere but written again on it survives', { timeout: 240_000 }, async (t) => {
  await withMesh(t, RESCAN_SEC, async (setup) => {
    const { nodes, writers, log, seed } = setup
    const [w0, , w2] = writers
    const cut = nodes[2]!
    const fixed = ['revived-in-place.txt', 'revived-anew.txt', 'gone.txt'].map((n) => `${FIXED_DIR}/${n}`)
    for (const rel of fixed) await w0!.create(rel)
    await converge(t, nodes, 30_000)
    const churn = runChurn(writers, log, { seed, durationMs: 45_000, conflicts: 15, conflictDir: CONFLICT_DIR, reserved: [FIXED_DIR] })
    await sleep(5_000)
    freezeNode(cut, true)
    t.after(() => freezeNode(cut, false))
    const frozenAt = clock()
    await sleep(5_000)
    // Deleted on n0 while n2 cannot hear of it; n2 writes two of them again (one in place, one deleted and made anew), after the deletes.
    for (const rel of fixed) assert.ok(await w0!.remove(rel) !== null, `${rel} deleted on n0`)
    await sleep(5_000)
    const inPlace = await w2!.overwrite(fixed[0]!)
    assert.ok(inPlace !== null, 'written again in place on n2')
    assert.ok(await w2!.remove(fixed[1]!) !== null)
    const anew = await w2!.create(fixed[1]!)
    assert.ok(anew !== null, 'written anew on n2')
    await sleep(Math.max(0, frozenAt + 30_000 - clock()))
    freezeNode(cut, false)
    const backAt = clock()
    const stats = await churn
    await converge(t, nodes, Math.max(5_000, backAt + 60_000 - clock()))
    const convergedMs = clock() - backAt
    const finals = await Promise.all(nodes.map((n) => readFinal(n)))
    for (const [i, tree] of finals.entries()) {
      assert.equal(tree.get(fixed[0]!)?.hash, inPlace.writes[0]!.hash, `${nodes[i]!.name} has the version written in place on n2`)
      assert.equal(tree.get(fixed[1]!)?.hash, anew.writes[0]!.hash, `${nodes[i]!.name} has the version written anew on n2`)
      assert.equal(tree.has(fixed[2]!), false, `${nodes[i]!.name}: the file n2 did not touch is gone`)
    }
    const sent = await sentTotals(nodes)
    await verdictOf(t, setup, stats, `${cut.name} frozen ${((backAt - frozenAt) / 1000).toFixed(1)} s; converged ${(convergedMs / 1000).toFixed(1)} s after its return; ${sent.batches} batches, ${sent.files} files sent`)
  })
})
