import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { startMesh, type MeshNode } from '../helpers/mesh.js'
import { convergedOrExplain, meshStatus } from '../helpers/mesh-tools.js'
import { spawnManaged } from '../helpers/managed-process.js'
import { waitFor } from '../helpers/wait-for.js'
import { getFreePort } from '../helpers/free-port.js'

const HAPROXY = '/usr/sbin/haproxy'

test('five nodes converge on a burst of 2,000 files written on one of them, and nothing is sent back nor twice, a repair mid-burst included', async (t) => {
  const DIRS = 20
  const PER_DIR = 100
  const nodes = await startMesh(t, { nodes: 5 })
  const origin = nodes[2]!
  // Each file is written beside the tree and renamed in, as upload services do: one version per file, so what is
  // counted is the mesh's sending, not how often the watcher happened to see a file half written (a new version).
  const scratch = path.join(path.dirname(origin.root), 'burst-scratch')
  await mkdir(scratch, { recursive: true })
  const started = Date.now()
  for (let d = 0; d < DIRS; d++) {
    const dir = path.join(origin.root, 'burst', `d${String(d).padStart(2, '0')}`)
    await mkdir(dir, { recursive: true })
    await Promise.all(Array.from({ length: PER_DIR }, async (_, i) => {
      const tmp = path.join(scratch, `d${d}-f${i}.txt`)
      await writeFile(tmp, `burst ${d}/${i} ${randomBytes(8).toString('hex')}\n`)
      await rename(tmp, path.join(dir, `f${i}.txt`))
    }))
  }
  const written = Date.now() - started
  // A repair while batches are in flight (a peer coming back, the timer): what is owed or on its way stays as it is.
  const repaired = await origin.api('/v1/mesh/repair', { method: 'POST' })
  assert.equal(repaired.status, 200)
  const tree = await convergedOrExplain(nodes, 150_000)
  const converged = Date.now() - started
  assert.equal([...tree.values()].filter((e) => e.type === 'file').length, DIRS * PER_DIR)
  const sent = await Promise.all(nodes.map(async (n) => (await meshStatus(n)).peers.reduce((s: number, p: { filesSent: number }) => s + p.filesSent, 0)))
  t.diagnostic(`${DIRS * PER_DIR} files written in ${written} ms, on all 5 nodes after ${converged} ms; files sent per node: ${sent.join(', ')}`)
  sent.forEach((n, i) => {
    // Over that, the warnings of the origin say what was sent again.
    const warned = (): string => origin.output().split('\n').filter((l) => l.includes('"level":40')).slice(-20).join('\n')
    if (nodes[i] === origin) assert.ok(n >= 4 * DIRS * PER_DIR && n <= 1.05 * 4 * DIRS * PER_DIR, `the origin sent each file to each peer about once (${n}); its warnings:\n${warned()}`)
    else assert.equal(n, 0, `${nodes[i]!.name} sent nothing: what it received is never originated again`)
  })
})

/**
 * The upload application of one node, as a load balancer sees it: PUT
 * /<name> writes the body beside the tree, renames it in, then asks its own
 * syncplane to flush that path and answers once the flush does.
 */
async function startUploadApp (node: MeshNode): Promise<{ port: number, server: Server }> {
  const tmp = path.join(path.dirname(node.root), 'upload-tmp')
  await mkdir(tmp, { recursive: true })
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        try {
          const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1))
          const staged = path.join(tmp, randomBytes(6).toString('hex'))
          await writeFile(staged, Buffer.concat(chunks))
          await mkdir(path.dirname(path.join(node.root, name)), { recursive: true })
          await rename(staged, path.join(node.root, name))
          const flush = await node.api('/v1/flush', { method: 'POST', body: { paths: [name], timeout: 30 } })
          res.writeHead(flush.status === 200 ? 201 : 502, { 'content-type': 'application/json', 'x-node': node.name })
          res.end(JSON.stringify({ node: node.name, flush: flush.status, mesh: flush.body?.mesh }))
        } catch (err) {
          res.writeHead(500, { 'x-node': node.name })
          res.end(String(err))
        }
      })()
    })
  })
  const port = await getFreePort()
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { port, server }
}

test('uploads through HAProxy round-robin over three nodes: once the node that took one flushed it, it is on every node', {
  skip: existsSync(HAPROXY) ? undefined : 'haproxy is not installed (apt-get install haproxy)',
}, async (t) => {
  const UPLOADS = 30
  const nodes = await startMesh(t, { nodes: 3 })
  const apps = await Promise.all(nodes.map(startUploadApp))
  t.after(() => apps.forEach((a) => a.server.close()))
  const front = await getFreePort()
  const config = [
    'global',
    '    maxconn 200',
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    '    timeout client 60s',
    '    timeout server 60s',
    'frontend uploads',
    `    bind 127.0.0.1:${front}`,
    '    default_backend upload_apps',
    'backend upload_apps',
    '    balance roundrobin',
    ...apps.map((a, i) => `    server ${nodes[i]!.name} 127.0.0.1:${a.port}`),
    '',
  ].join('\n')
  const file = path.join(path.dirname(path.dirname(nodes[0]!.root)), 'haproxy.cfg')
  await writeFile(file, config)
  const haproxy = await spawnManaged(HAPROXY, ['-db', '-f', file])
  t.after(() => haproxy.stop())
  await waitFor(async () => (await fetch(`http://127.0.0.1:${front}/`, { method: 'HEAD' }).catch(() => null)) !== null, { message: () => `haproxy listens (${haproxy.output()})` })

  const tookBy = new Map<string, number>()
  const upload = async (i: number): Promise<void> => {
    const name = `uploads/${i % 4}/file-${i}.bin`
    const body = `upload ${i} ${randomBytes(32).toString('hex')}`
    const res = await fetch(`http://127.0.0.1:${front}/${encodeURIComponent(name)}`, { method: 'PUT', body })
    const answer = await res.json() as { node: string, flush: number }
    assert.equal(res.status, 201, `upload ${i} on ${answer.node}: flush answered ${answer.flush}`)
    tookBy.set(answer.node, (tookBy.get(answer.node) ?? 0) + 1)
    // The flush answered 200: readable on every node now, with the uploaded bytes.
    for (const n of nodes) assert.equal(await readFile(path.join(n.root, name), 'utf8').catch((e) => `missing: ${e.code}`), body, `upload ${i} (taken by ${answer.node}) on ${n.name}`)
  }
  const started = Date.now()
  for (let i = 0; i < UPLOADS; i += 3) await Promise.all([i, i + 1, i + 2].filter((j) => j < UPLOADS).map(upload))
  t.diagnostic(`${UPLOADS} uploads, three at a time, each flushed across the mesh: ${Date.now() - started} ms; taken by ${[...tookBy].map(([n, c]) => `${n}: ${c}`).join(', ')}`)
  assert.equal(tookBy.size, 3, 'round-robin used every node')
  await convergedOrExplain(nodes)
})
