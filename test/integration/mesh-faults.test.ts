import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { startMesh, waitConverged, type MeshNode } from '../helpers/mesh.js'
import { meshStatus, peerCall, stage, treeContents } from '../helpers/mesh-tools.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { canMount, mountTmpfs, unmountLazily } from '../helpers/tmpfs.js'
import { waitFor } from '../helpers/wait-for.js'

const entry = (p: string, extra: Record<string, unknown> = {}) => ({ path: p, kind: 'file', deleted: false, vv: { n1: 1 }, hlc: Date.now(), origin: 'n1', ...extra })

/** Every file below `dir`, with its bytes, as a sorted listing (a directory outside the tree must not change). */
async function listing (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const rel = path.relative(dir, path.join(e.parentPath, e.name))
    out.push(e.isFile() ? `${rel}=${await readFile(path.join(dir, rel), 'utf8')}` : `${rel}/`)
  }
  return out.sort()
}

test('the peer API: only the mesh secret, only a peer, only paths inside the tree; never a 5xx', async (t) => {
  const nodes = await startMesh(t, { nodes: 2 })
  const n0 = nodes[0]!
  // The batches below come from this test in n1's name; n1's own would tidy away the staging directories they use.
  await nodes[1]!.stop()
  const outside = await makeTempDir(t, 'syncplane-outside-')
  await writeFile(path.join(outside.path, 'victim.txt'), 'outside bytes')
  // A symlink inside n0's tree to a directory outside it (mesh mode never replicates symlinks).
  await symlink(outside.path, path.join(n0.root, 'out'))
  const tag = randomBytes(4).toString('hex')
  const parent = path.dirname(n0.root)
  const before = { outside: await listing(outside.path), parent: (await readdir(parent)).sort() }

  // The secret, and nothing else, opens the peer API.
  const ok = { from: 'n1', batch: 'auth', entries: [] }
  for (const [token, why] of [[null, 'no token'], ['wrong-secret-0123456789', 'a wrong secret'], ['', 'an empty bearer']] as const) {
    for (const [route, body] of [['/mesh/v1/apply', ok], ['/mesh/v1/hello?from=n1', undefined]] as const) {
      const res = await peerCall(n0, route, { token, body })
      assert.equal(res.status, 401, `${route} with ${why}`)
      assert.match(res.type, /^application\/problem\+json/, `${route} with ${why}`)
      assert.equal(res.body.status, 401)
    }
  }
  assert.equal((await peerCall(n0, '/mesh/v1/hello?from=n1')).status, 200)

  // A sender that is no peer, or the node itself.
  for (const from of ['stranger', 'n0']) {
    const res = await peerCall(n0, '/mesh/v1/apply', { body: { from, batch: 'x', entries: [entry('from-stranger.txt', { origin: from, vv: { [from]: 1 } })] } })
    assert.equal(res.status, 403, from)
    assert.match(res.type, /^application\/problem\+json/)
    assert.equal(res.body.code, 'UNKNOWN_PEER')
  }

  // Hostile paths, each staged where the receiver would look for its bytes.
  const batch = `hostile-${tag}`
  const hostile = [
    `../escape-${tag}`,
    `a/../../escape2-${tag}`,
    `/tmp/syncplane-abs-${tag}`,
    `.syncplane/escape-${tag}`,
    `.syncplane/staging/n1/${batch}/x`,
    `nul\0-${tag}`,
    `out/new-${tag}.txt`, // through the symlink
    'out/victim.txt', // would overwrite a file outside
  ]
  for (const p of hostile) if (!p.includes('\0')) await stage(n0, 'n1', batch, p, `hostile ${p}`)
  await stage(n0, 'n1', batch, 'fine.txt', 'a fine file')
  // Versions no node could have made: a counter that cannot go up by one, clocks past any date.
  const outOfRange = [
    entry(`huge-counter-${tag}.txt`, { vv: { n0: 2 ** 60, n1: 1 } }),
    entry(`far-clock-${tag}.txt`, { hlc: 9e15 }),
    entry(`unsafe-clock-${tag}.txt`, { hlc: Number.MAX_SAFE_INTEGER + 2 }),
    entry(`huge-dead-${tag}.txt`, { dead: { n2: 2 ** 60 } }),
  ]
  for (const e of outOfRange) await stage(n0, 'n1', batch, e.path, 'out of range')
  const entries = [
    ...hostile.map((p) => entry(p)),
    ...outOfRange,
    entry(`out/dir-${tag}`, { kind: 'dir' }),
    entry('out/victim.txt', { deleted: true, vv: { n1: 2 } }),
    entry(`../gone-${tag}`, { deleted: true }),
    entry('fine.txt'),
  ]
  const res = await peerCall(n0, '/mesh/v1/apply', { body: { from: 'n1', batch, entries } })
  assert.ok(res.status < 500, `${res.status}: ${JSON.stringify(res.body)}`)
  if (res.status === 200) {
    const outcomes: string[] = res.body.outcomes
    assert.equal(outcomes.length, entries.length)
    entries.forEach((e, i) => {
      if (e.path === 'fine.txt') assert.equal(outcomes[i], 'applied', 'the well-named entry of the same batch goes in')
      else assert.equal(outcomes[i], 'refused', `${JSON.stringify(e.path)} (${e.kind}${e.deleted ? ', deleted' : ''})`)
    })
  } else {
    assert.ok(res.status >= 400, String(res.status))
  }

  // A staged file reached through a symlink in the staging directory: its bytes are outside the tree.
  const sneaky = `sneaky-${tag}`
  await mkdir(path.join(n0.root, '.syncplane', 'staging', 'n1', sneaky), { recursive: true })
  await symlink(outside.path, path.join(n0.root, '.syncplane', 'staging', 'n1', sneaky, 'linked'))
  await symlink(path.join(outside.path, 'victim.txt'), path.join(n0.root, '.syncplane', 'staging', 'n1', sneaky, 'file-link.txt'))
  const viaStaging = await peerCall(n0, '/mesh/v1/apply', { body: { from: 'n1', batch: sneaky, entries: [entry('linked/victim.txt'), entry('file-link.txt')] } })
  assert.ok(viaStaging.status < 500, `${viaStaging.status}: ${JSON.stringify(viaStaging.body)}`)
  if (viaStaging.status === 200) assert.deepEqual(viaStaging.body.outcomes, ['refused', 'refused'])

  // Malformed manifests: 4xx, never 5xx.
  const malformed: unknown[] = [
    'not json',
    { from: 'n1', batch: '../up', entries: [] },
    { from: 'n1', batch: 'b', entries: [entry('x', { kind: 'symlink' })] },
    { from: 'n1', batch: 'b', entries: [entry('x', { vv: { n1: 0 } })] },
    { from: 'n1', batch: 'b', entries: [entry('x', { hlc: -1 })] },
    { from: 'n1', batch: 'b', entries: [entry('x'.repeat(5000))] },
    { from: 'n1', batch: 'b', entries: [{ path: 'x' }] },
  ]
  for (const body of malformed) {
    const r = await peerCall(n0, '/mesh/v1/apply', { body })
    assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(body).slice(0, 80)}: ${r.status}`)
  }

  // Nothing outside the tree was written, replaced or removed; the fine file is in.
  assert.deepEqual(await listing(outside.path), before.outside)
  assert.deepEqual((await readdir(parent)).sort(), before.parent)
  assert.ok(!existsSync(`/tmp/syncplane-abs-${tag}`))
  assert.equal(await readFile(path.join(n0.root, 'fine.txt'), 'utf8'), 'a fine file')
  assert.ok(!(await treeContents(n0)).has(`.syncplane/escape-${tag}`))
  assert.equal((await n0.api('/v1/mesh')).status, 200, 'the node still answers')
})

/**
 * Polls `probe` for `ms` and fails at the first probe that does not hold:
 * for properties that say nothing happens (no deletion), once the events
 * that would have caused one have happened.
 */
async function holdsFor (ms: number, probe: () => Promise<string | null>): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    const broken = await probe()
    if (broken !== null) assert.fail(broken)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

function unmountIfMounted (dir: string): void {
  try {
    execFileSync('mountpoint', ['-q', dir])
  } catch {
    return
  }
  unmountLazily(dir)
}

const MARKER = '.syncplane-root'

/** Points a node's config at `{ path, marker }` and puts the marker in its tree. */
async function useMarker (node: MeshNode): Promise<void> {
  const file = path.join(path.dirname(node.root), 'config.yaml')
  const config = JSON.parse(await readFile(file, 'utf8'))
  await writeFile(file, JSON.stringify({ ...config, source: { path: node.root, marker: MARKER } }))
  await writeFile(path.join(node.root, MARKER), '')
}

const sourceFault = async (node: MeshNode): Promise<{ kind: string } | null> => (await node.api('/v1/status')).body?.sourceFault ?? null

for (const variant of ['a plain source path', 'a source with a root marker'] as const) {
  const marker = variant === 'a source with a root marker'
  test(`an unmounted source on one node deletes nothing on any node (${variant})`, { skip: canMount() ? undefined : 'needs root to mount a tmpfs' }, async (t) => {
    let volume = ''
    let nodes: MeshNode[]
    try {
      nodes = await startMesh(t, {
        nodes: 3,
        mesh: { rescanSec: 1 },
        beforeStart: async (ns, dir) => {
          volume = ns[0]!.root
          await mountTmpfs(dir, volume, '64m')
          if (marker) for (const n of ns) await useMarker(n)
        },
      })
    } catch (err) {
      // startMesh's clean-up (registered first, run first) removes the directories: the volume must be gone by then.
      if (volume !== '') unmountIfMounted(volume)
      throw err
    }
    try {
      const [n0, n1, n2] = nodes as [MeshNode, MeshNode, MeshNode]
      await mkdir(path.join(n0.root, 'keep'))
      for (let i = 0; i < 20; i++) await writeFile(path.join(n0.root, 'keep', `f${i}.txt`), `f${i} from n0`)
      await mkdir(path.join(n1.root, 'from-n1'))
      for (let i = 0; i < 10; i++) await writeFile(path.join(n1.root, 'from-n1', `g${i}.txt`), `g${i} from n1`)
      const full = await waitConverged(nodes)
      const files = [...full.keys()].filter((k) => full.get(k)!.type === 'file' && k !== MARKER)
      assert.equal(files.length, 30)

      // n0 changes files its peers cannot take yet (their daemons are down), then its volume goes away under them.
      await n1.daemon.stop()
      await n2.daemon.stop()
      for (let i = 0; i < 5; i++) await writeFile(path.join(n0.root, 'keep', `f${i}.txt`), `f${i} changed on n0`)
      await waitFor(async () => (await meshStatus(n0)).peers.every((p: { owed: number, consecutiveFailures: number }) => p.owed >= 5 && p.consecutiveFailures > 0),
        { message: 'n0 owes its changes to both peers and failed to send them' })
      unmountLazily(n0.root)
      const fault = await waitFor(() => sourceFault(n0), { timeoutMs: 5_000, message: 'n0 sees its source fault' })
      // With a marker the volume's marker is gone too; the guard names the unmount first.
      assert.ok(fault.kind === 'unmounted' || (marker && fault.kind === 'marker-missing'), fault.kind)
      const attempts = (s: any): number => s.peers.reduce((sum: number, p: { batchesSent: number, consecutiveFailures: number }) => sum + p.batchesSent + p.consecutiveFailures, 0)
      const attemptsThen = attempts(await meshStatus(n0))
      await n1.daemon.restart()
      await n2.daemon.restart()

      // Meanwhile the healthy nodes go on: a new file on n1, a deletion on n2.
      await writeFile(path.join(n1.root, 'from-n1', 'during.txt'), 'written on n1 during the fault')
      await rm(path.join(n2.root, 'from-n1', 'g9.txt'))
      // And something lands in n0's bare mount point.
      await writeFile(path.join(n0.root, 'bare.txt'), 'written into the bare mount point')

      const expected = new Set([...files.filter((f) => f !== 'from-n1/g9.txt'), 'from-n1/during.txt'])
      const intact = async (): Promise<string | null> => {
        for (const n of [n1, n2]) {
          const tree = await treeContents(n)
          const missing = [...expected].filter((f) => !tree.has(f))
          if (missing.length > 0) return `${n.name} lost ${missing.join(', ')}`
          if (tree.has('bare.txt')) return `n0 originated bare.txt during the fault (found on ${n.name})`
        }
        return null
      }
      // The healthy nodes converge with each other, n0 has tried to send again since its volume went away, and the rescans ran.
      await waitFor(async () => {
        const tree1 = await treeContents(n1)
        const tree2 = await treeContents(n2)
        return tree1.has('from-n1/during.txt') && tree2.has('from-n1/during.txt') && !tree1.has('from-n1/g9.txt')
      }, { timeoutMs: 30_000, message: 'n1 and n2 exchange their changes' })
      // n0 tried its peers again since (whatever it owes them stays owed or goes as what it was: never as a deletion).
      await waitFor(async () => {
        const s = await meshStatus(n0)
        if (attempts(s) <= attemptsThen) throw new Error(`${attemptsThen}: ${JSON.stringify(s)}\n${n0.output().slice(-3000)}`)
        return true
      }, { timeoutMs: 20_000, message: 'n0 tries its peers again' })
      // Three rescan intervals (rescanSec: 1) with nothing lost anywhere.
      await holdsFor(3_500, intact)
      assert.ok(await sourceFault(n0), 'still faulted')
    } finally {
      unmountIfMounted(volume)
    }
  })
}

test('mass delete on one node is held until confirmed with the count; the peers keep everything meanwhile', async (t) => {
  const nodes = await startMesh(t, { nodes: 3, config: { deletes: { maxFiles: 20, minFiles: 0 } } })
  const [n0, n1, n2] = nodes as [MeshNode, MeshNode, MeshNode]
  for (let d = 0; d < 3; d++) {
    await mkdir(path.join(n0.root, 'big', `d${d}`), { recursive: true })
    for (let i = 0; i < 20; i++) await writeFile(path.join(n0.root, 'big', `d${d}`, `f${i}.txt`), `${d}/${i}`)
  }
  await writeFile(path.join(n0.root, 'keep.txt'), 'stays')
  const full = await waitConverged(nodes)
  assert.equal(full.size, 65)
  assert.equal((await n0.api('/v1/mesh/deletes/confirm', { method: 'POST', body: { expected: 1 } })).status, 409, 'nothing held yet')

  await rm(path.join(n0.root, 'big'), { recursive: true })
  const held = await waitFor(async () => (await meshStatus(n0)).deletesHeld, { message: 'n0 holds its deletions' })
  assert.ok(held.count > 20, JSON.stringify(held))
  // n0 owes nothing: not one deletion went out; the peers keep every file.
  await waitFor(async () => (await meshStatus(n0)).idle, { message: 'n0 idle' })
  for (const n of [n1, n2]) assert.equal((await treeContents(n)).size, 61, `${n.name} keeps everything`)
  const status = await meshStatus(n0)
  assert.equal(status.tombstones, 0)
  assert.ok(status.deletesHeld !== null, 'still held')

  const wrong = await n0.api('/v1/mesh/deletes/confirm', { method: 'POST', body: { expected: 5 } })
  assert.equal(wrong.status, 409)
  assert.equal(wrong.body.code, 'DELETES_CHANGED')
  // Confirmed with the count held (a later scan may have counted the directories too: read it again then).
  await waitFor(async () => {
    const count = (await meshStatus(n0)).deletesHeld?.count
    if (count === undefined) return false
    const res = await n0.api('/v1/mesh/deletes/confirm', { method: 'POST', body: { expected: count } })
    return res.status === 200 && res.body.deletesHeld === null
  }, { message: 'the confirmation is taken' })
  const after = await waitConverged(nodes)
  assert.deepEqual([...after.keys()], ['keep.txt'])
  assert.equal((await meshStatus(n0)).deletesHeld, null)
})

test('a directory deleted while its node was down is deleted on every node once it is back', async (t) => {
  const nodes = await startMesh(t, { nodes: 2 })
  const [n0, n1] = nodes as [MeshNode, MeshNode]
  await mkdir(path.join(n0.root, 'old', 'sub'), { recursive: true })
  for (let i = 0; i < 5; i++) await writeFile(path.join(n0.root, 'old', 'sub', `f${i}.txt`), `f${i}`)
  await writeFile(path.join(n0.root, 'old', 'top.txt'), 'top')
  await writeFile(path.join(n0.root, 'stays.txt'), 'stays')
  await waitConverged(nodes)
  await n0.stop()
  await rm(path.join(n0.root, 'old'), { recursive: true })
  await n0.start()
  const tree = await waitConverged(nodes)
  assert.deepEqual([...tree.keys()], ['stays.txt'])
  assert.equal((await meshStatus(n1)).files, 1)
})
