import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startMesh, waitConverged, type MeshNode } from '../helpers/mesh.js'
import { meshStatus } from '../helpers/mesh-tools.js'
import { waitFor } from '../helpers/wait-for.js'

/** The bytes of every file below `dir` so far (none when it does not exist). */
async function stagedBytes (dir: string): Promise<number> {
  let entries
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true })
  } catch {
    return 0
  }
  let bytes = 0
  for (const e of entries) {
    if (!e.isFile()) continue
    try {
      bytes += (await stat(path.join(e.parentPath, e.name))).size
    } catch {} // gone meanwhile
  }
  return bytes
}

// A peer's files are written straight under their names in a staging directory of the batch's own (`--inplace`):
// a push cut short leaves part of a file there, which must never reach the tree.
test('a push cut short in the middle of a file (the peer\'s rsync daemon killed) puts none of it in the peer\'s tree; the whole file arrives once the daemon is back', async (t) => {
  const size = 16 * 1024 * 1024
  // 4 MB/s: the 16 MB file takes about 4 s, time enough to cut it short.
  const nodes = await startMesh(t, { nodes: 2, config: { rsync: { extraArgs: ['--bwlimit=4m'] } } })
  const [n0, n1] = nodes as [MeshNode, MeshNode]
  const bytes = randomBytes(size)
  await writeFile(path.join(n0.root, 'big.bin'), bytes)

  const staging = path.join(n1.root, '.syncplane', 'staging', 'n0')
  await waitFor(async () => {
    const staged = await stagedBytes(staging)
    return staged > 0 && staged < size
  }, { timeoutMs: 30_000, message: 'part of the file in the peer\'s staging directory' })
  await n1.daemon.stop()
  await waitFor(async () => (await meshStatus(n0)).peers.find((p: { name: string }) => p.name === 'n1')?.consecutiveFailures > 0,
    { timeoutMs: 30_000, message: 'the push failed' })
  assert.equal(existsSync(path.join(n1.root, 'big.bin')), false, 'no part of the file in the tree')
  assert.ok((await meshStatus(n0)).peers.find((p: { name: string }) => p.name === 'n1').owed > 0, 'the file stays owed')

  await n1.daemon.restart()
  await waitConverged(nodes, 120_000)
  assert.ok((await readFile(path.join(n1.root, 'big.bin'))).equals(bytes), 'the whole file, as written')
  // The next batch from n0 discarded what the one cut short left.
  await waitFor(async () => (await readdir(staging).catch(() => [])).length === 0, { message: 'the staging directory emptied' })
})
