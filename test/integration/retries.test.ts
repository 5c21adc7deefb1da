import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane, startSyncplaneTo, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { jobsOf, journalOf } from '../helpers/stores.js'

const jobRows = (sp: SyncplaneHarness, target: string) => jobsOf(sp.services.jobs, { target })
const statusOf = async (sp: SyncplaneHarness, name: string) =>
  (await sp.app.inject({ url: '/v1/status' })).json().targets.find((t: { name: string }) => t.name === name)
const fastRetry = { retry: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0 } }
const OUTAGE_SEC = Number(process.env.SYNCPLANE_TEST_OUTAGE_SEC ?? 30)

test('exit 23 (partial transfer) is a failure that is retried until the target takes everything', async (t) => {
  const { target, sp } = await startSyncplaneTo(t, 'daemon', { name: 'web2', moduleOptions: ['exclude = *.forbidden'], config: fastRetry })
  await writeFile(path.join(sp.source, 'fine.txt'), 'fine')
  await writeFile(path.join(sp.source, 'refused.forbidden'), 'the daemon refuses this one')
  const failed = await waitFor(() => {
    const rows = jobRows(sp, 'web2').filter((j) => j.kind === 'incremental' && j.status === 'failed')
    return rows.length >= 3 ? rows : undefined
  }, { message: 'three failed attempts' })
  assert.ok(failed.every((j) => j.exitCode === 23), JSON.stringify(failed))
  assert.match(failed[0]!.error!, /code 23 \(partial transfer due to error\)/)
  assert.deepEqual(failed.slice(1).map((j) => j.trigger), failed.slice(1).map(() => 'retry'))
  assert.ok(failed[2]!.attempt > failed[1]!.attempt && failed[1]!.attempt > failed[0]!.attempt)
  const status = await statusOf(sp, 'web2')
  assert.ok(status.consecutiveFailures >= 3)
  assert.ok(status.pending + status.inFlight >= 1, 'the refused path stays pending')

  await rm(path.join(sp.source, 'refused.forbidden'))
  await waitFor(async () => (await statusOf(sp, 'web2')).consecutiveFailures === 0, { message: 'the target recovers' })
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile })
  // The file can land before its job row is closed: wait for the row.
  const last = await waitFor(() => {
    const job = jobRows(sp, 'web2').at(-1)!
    return job.status === 'running' || job.status === 'queued' ? undefined : job
  }, { message: 'the last run ends' })
  assert.equal(last.status, 'succeeded')
})

test('deleting a file the daemon refused to receive is not retried forever', async (t) => {
  // No start-up mirror: it would read the source after the delete and clear the path itself.
  const { sp } = await startSyncplaneTo(t, 'daemon', { name: 'web2', moduleOptions: ['exclude = *.forbidden'], config: { ...fastRetry, fullSync: { onStart: false } } })
  await writeFile(path.join(sp.source, 'refused.forbidden'), 'the daemon refuses this one')
  await waitFor(() => jobRows(sp, 'web2').some((j) => j.status === 'failed' && j.exitCode === 23), { message: 'the refused upload fails' })
  await rm(path.join(sp.source, 'refused.forbidden'))
  const done = await waitFor(() => jobsOf(sp.services.jobs, { target: 'web2', status: 'succeeded' })[0], { message: 'the deletion run succeeds' })
  assert.equal(done.exitCode, 23)
  assert.match(done.warning!, /refuses these names.*refused\.forbidden/s)
  // Healthy again, and idle: no run of it going on (a run checking what was sent may still be on its way when the
  // failures reset, so idle is waited for, not read at that moment).
  const status = await waitFor(async () => {
    const s = await statusOf(sp, 'web2')
    return s.consecutiveFailures === 0 && s.pending === 0 && s.state === 'idle' ? s : undefined
  }, { message: 'the target is healthy and idle again' })
  assert.equal(status.inFlight, 0)
})

test('a refused login marks the target failing with a clear message, keeps its paths and retries slowly', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'daemon', 'web2')
  const wrongEnv = Object.fromEntries(Object.keys(target.env).map((k) => [k, 'not-the-password']))
  const sp = await startSyncplane(tmp, { targets: [target.config], env: wrongEnv, config: { retry: { initialDelayMs: 50, maxDelayMs: 1_500, jitter: 0 } } })
  await writeFile(path.join(sp.source, 'waiting.txt'), 'x')
  const status = await waitFor(async () => {
    const s = await statusOf(sp, 'web2')
    return s.state === 'failing' && s.pending >= 1 ? s : undefined
  }, { message: 'the target is failing with the change pending' })
  assert.match(status.lastError.message, /code 5 \(error starting client-server protocol\).*auth failed/s)
  // Each kind of run waits the slowest pace after its own failure, at once.
  const gaps = await waitFor(() => {
    const rows = jobsOf(sp.services.jobs, { kind: 'incremental', status: 'failed' })
    return rows.length >= 2 ? rows.slice(1).map((r, i) => r.startedAt! - rows[i]!.finishedAt!) : undefined
  }, { message: 'two failed attempts', timeoutMs: 10_000 })
  assert.ok(gaps.every((g) => g >= 1_400), `retried slowly: ${gaps.join(', ')} ms apart`)
})

test(`a target down for ${OUTAGE_SEC} s costs only backlog: the other target keeps up and everything converges after`, async (t) => {
  const tmp = await makeTempDir(t)
  const down = await startTarget(tmp, 'daemon', 'web2')
  const up = await startTarget(tmp, 'local', 'backup')
  const sp = await startSyncplane(tmp, { targets: [down.config, up.config], env: down.env, config: { retry: { initialDelayMs: 200, maxDelayMs: 2_000 } } })
  await waitFor(() => jobRows(sp, 'web2').some((j) => j.kind === 'full' && j.status === 'succeeded'), { message: 'startup mirror' })
  await down.daemon!.stop()

  const samples: number[] = []
  const outageEnds = Date.now() + OUTAGE_SEC * 1000
  let i = 0
  while (Date.now() < outageEnds) {
    await mkdir(path.join(sp.source, `batch-${Math.floor(i / 50)}`), { recursive: true })
    await writeFile(path.join(sp.source, `batch-${Math.floor(i / 50)}`, `f${i}`), `written during the outage ${i}`)
    i++
    if (i % 25 === 0) {
      samples.push((await statusOf(sp, 'web2')).pending)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  // Generous: the comparison hashes both trees in this process, sharing its file thread pool with syncplane.
  await waitForTreesEqual(sp.source, up.dir, { ignore: isRsyncTempFile, timeoutMs: 30_000 })
  const peak = Math.max(...samples)
  assert.ok(samples.at(-1)! > samples[0]!, `the backlog grows during the outage: ${samples.join(',')}`)

  await down.daemon!.restart()
  const restarted = performance.now()
  await waitForTreesEqual(sp.source, down.dir, { ignore: isRsyncTempFile, timeoutMs: 30_000 })
  const convergedMs = Math.round(performance.now() - restarted)
  await waitFor(async () => (await statusOf(sp, 'web2')).pending === 0, { message: 'backlog drained' })
  const rows = jobRows(sp, 'web2')
  assert.ok(rows.some((j) => j.status === 'failed' && j.exitCode === 10), 'the history shows the failures')
  assert.equal(rows.at(-1)!.status, 'succeeded', 'and the recovery')
  t.diagnostic(`outage ${OUTAGE_SEC} s, ${i} files written, peak pending ${peak}, converged ${convergedMs} ms after the daemon came back, ${rows.filter((j) => j.status === 'failed').length} failed attempts`)
})

test('past batch.maxPending a backlog is replaced by one full mirror of that target', async (t) => {
  const { target, sp } = await startSyncplaneTo(t, 'daemon', { name: 'web2', config: { batch: { maxPending: 100 }, ...fastRetry } })
  await waitFor(() => jobRows(sp, 'web2').some((j) => j.kind === 'full' && j.status === 'succeeded'), { message: 'startup mirror' })
  await target.daemon!.stop()
  for (let i = 0; i < 400; i++) await writeFile(path.join(sp.source, `f${i}`), `${i}`)
  const status = await waitFor(async () => {
    const s = await statusOf(sp, 'web2')
    return s.fullSyncPending ? s : undefined
  }, { message: 'the backlog collapsed' })
  assert.ok(status.pending <= 100, `pending stays bounded (${status.pending})`)
  const journaled = journalOf(sp.services.db, 'web2').length
  assert.ok(journaled <= 100, `the journal stays bounded (${journaled})`)

  await target.daemon!.restart()
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 30_000 })
  const rows = jobRows(sp, 'web2')
  assert.ok(rows.some((j) => j.kind === 'full' && j.trigger === 'overflow'), 'the mirror says why it ran')
  await waitFor(async () => !(await statusOf(sp, 'web2')).fullSyncPending, { message: 'the owed mirror is paid' })
})
