import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnService } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'
import { jobsOf, openStores } from '../helpers/stores.js'

test('kill -9 with a journaled backlog, then a restart with no startup or recovery mirror, still converges', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'daemon')
  // Only the journal can carry these changes over: no mirror at start, none after the crash.
  const config = {
    fullSync: { onStart: false, afterCrash: false, intervalSec: 0 },
    retry: { initialDelayMs: 100, maxDelayMs: 500 },
    targets: [target.config],
  }
  const first = await spawnService(tmp, { config, env: target.env })
  const { source } = first
  await first.waitReady()
  await target.daemon!.stop()

  await mkdir(path.join(source, 'burst'))
  for (let i = 0; i < 300; i++) await writeFile(path.join(source, 'burst', `f${i} with space`), `payload ${i}`)
  await waitFor(async () => (await first.api('/v1/status')).body.targets[0].pending + (await first.api('/v1/status')).body.targets[0].inFlight >= 301,
    { message: 'every change seen and journaled' })
  first.signal('SIGKILL')
  assert.equal((await first.exited).signal, 'SIGKILL')

  await target.daemon!.restart()
  const second = await spawnService(tmp, { config, env: target.env, name: 'second' })
  await second.waitReady()
  await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 30_000 })
  const { body } = await second.api('/v1/jobs?kind=full')
  assert.deepEqual(body.jobs, [], 'no full mirror ran: the journal alone converged the target')
})

test('kill -9 in the middle of a burst, then a restart without a startup mirror, converges through the recovery mirror', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'daemon')
  const config = {
    fullSync: { onStart: false, intervalSec: 0 },
    targets: [target.config],
  }
  const first = await spawnService(tmp, { config, env: target.env })
  const { source } = first
  await first.waitReady()

  let killed = false
  const writer = (async () => {
    for (let i = 0; i < 2_000; i++) {
      await writeFile(path.join(source, `file-${i}`), `content ${i}`)
      if (i === 800) {
        await waitFor(async () => (await first.api('/v1/jobs?status=succeeded')).body.jobs.length > 0, { message: 'some batches delivered' })
        first.signal('SIGKILL')
        killed = true
      }
    }
  })()
  await writer
  assert.ok(killed)
  await first.exited

  const second = await spawnService(tmp, { config, env: target.env, name: 'second' })
  await second.waitReady()
  await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 30_000 })
  const { body } = await second.api('/v1/jobs?kind=full&trigger=recovery')
  assert.equal(body.jobs.length, 1)
  assert.equal(body.jobs[0].status, 'succeeded')

  await second.proc.stop()
  const { jobs } = openStores(tmp, second.database)
  assert.ok(jobsOf(jobs).every((j) => j.status !== 'running' && j.status !== 'queued'), 'no job is left running')
})
