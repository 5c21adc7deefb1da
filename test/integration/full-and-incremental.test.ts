import { test, type TestContext } from 'node:test'
import { existsSync } from 'node:fs'
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { jobsOf } from '../helpers/stores.js'

/**
 * syncplane over a daemon target whose start-up mirror is slowed by
 * --bwlimit (KB/s) so that it surely overlaps what the test does next.
 */
async function duringStartupMirror (t: TestContext, tree: { dirs: number; files: number; size: number }, bwlimit: number) {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'daemon', 'web2')
  const source = path.join(tmp.path, 'source')
  for (let d = 0; d < tree.dirs; d++) {
    await mkdir(path.join(source, `old${d}`), { recursive: true })
    await Promise.all(Array.from({ length: tree.files }, (_, f) => writeFile(path.join(source, `old${d}`, `f${f}`), Buffer.alloc(tree.size, d))))
  }
  const sp = await startSyncplane(tmp, { targets: [target.config], env: target.env, config: { rsync: { extraArgs: [`--bwlimit=${bwlimit}`] } } })
  const running = () => jobsOf(sp.services.jobs, { kind: 'full', status: 'running' })[0]
  const full = await waitFor(running, { message: 'the startup mirror is running' })
  return { sp, target, source, running, full }
}

test('files created and deleted while a full mirror runs are right on the target once both are done', async (t) => {
  const { sp, target, source, running, full } = await duringStartupMirror(t, { dirs: 100, files: 100, size: 512 }, 1500)

  await mkdir(path.join(source, 'new-during-full'))
  for (let i = 0; i < 50; i++) await writeFile(path.join(source, 'new-during-full', `n${i}`), `new ${i}`)
  await rm(path.join(source, 'old99'), { recursive: true })
  await writeFile(path.join(source, 'old0', 'f0'), 'rewritten during the mirror')
  assert.equal(running()?.id, full.id, 'the writes overlapped the mirror')

  await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 60_000 })
  const after = jobsOf(sp.services.jobs, { kind: 'incremental', status: 'succeeded' }).filter((j) => j.id > full.id)
  assert.ok(after.length >= 1, 'the changes seen during the mirror were sent after it')
})

test('a change made while a long mirror runs reaches the target before the mirror ends', async (t) => {
  // About 4 MB at 500 KB/s: the mirror takes several seconds.
  const { sp, target, source, running, full } = await duringStartupMirror(t, { dirs: 40, files: 50, size: 2048 }, 500)

  await writeFile(path.join(source, 'live.txt'), 'uploaded during the mirror')
  await waitFor(() => existsSync(path.join(target.dir, 'live.txt')), { message: 'live.txt reaches the target' })
  assert.equal(running()?.id, full.id, 'the mirror is still running')

  await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 60_000 })
  // Sent alongside the mirror, then again after it, in case the mirror undid it.
  await waitFor(() => jobsOf(sp.services.jobs, { path: 'live.txt', status: 'succeeded' }).length >= 2, { message: 'live.txt is sent again after the mirror' })
  await waitFor(() => sp.services.engine.status().targets[0]!.pending === 0, { message: 'nothing is left pending' })
})
