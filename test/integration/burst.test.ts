import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplaneTo } from '../helpers/syncplane.js'
import { jobsOf } from '../helpers/stores.js'

const FILES = 2_000

test(`a burst of ${FILES} files converges with far fewer rsync runs than files`, async (t) => {
  const { target, sp } = await startSyncplaneTo(t, 'daemon')
  const jobCount = () => jobsOf(sp.services.jobs, { kind: 'incremental' }).length
  await waitFor(() => jobsOf(sp.services.jobs, { kind: 'full', status: 'succeeded' }).length > 0, { message: 'startup full sync' })
  const before = jobCount()

  for (let d = 0; d < 20; d++) await mkdir(path.join(sp.source, `dir${d}`))
  const started = performance.now()
  await Promise.all(Array.from({ length: FILES }, (_, i) =>
    writeFile(path.join(sp.source, `dir${i % 20}`, `file-${i}.bin`), Buffer.alloc(4096, i % 251))))
  const written = performance.now()
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 60_000, intervalMs: 100 })
  const converged = performance.now()
  // The last run may still be confirming; count once every run has finished.
  await waitFor(() => sp.services.engine.status().targets.every((x) => x.runningJobId === null && x.pending === 0), { message: 'the target is idle' })

  const runs = jobCount() - before
  const failed = jobsOf(sp.services.jobs).filter((j) => j.status !== 'succeeded')
  t.diagnostic(`${FILES} files: written in ${Math.round(written - started)} ms, converged ${Math.round(converged - written)} ms after the last write, ${runs} rsync runs`)
  assert.deepEqual(failed, [])
  assert.ok(runs >= 1)
  assert.ok(runs <= FILES / 20, `expected far fewer runs than files, got ${runs}`)
})
