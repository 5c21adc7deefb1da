import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import type { Job } from '../../src/db/job-store.js'
import { decideNext, type ScheduleInput } from '../../src/sync/schedule.js'
import { newTargetRuntime, undeliveredFloor, type TargetRuntime } from '../../src/sync/target-runtime.js'
import { stateOf } from '../../src/sync/target-state.js'
import { statusOf } from '../../src/sync/target-status.js'
import { createEngineHarness, localTarget } from '../helpers/engine-harness.js'
import { waitFor } from '../helpers/wait-for.js'

// The decision and the projection, pure.

const batch = { quietMs: 100, maxDelayMs: 1_000, maxPaths: 1_000, maxPending: 10_000 }
const at = 10_000
const input = (over: Partial<ScheduleInput> = {}): ScheduleInput => ({ at, paused: false, sourceBlocked: false, batch, ...over })
const entry = (seq: number, observedAt = at) => ({ seq, firstSeq: seq, observedAt })
const job = (trigger: Job['trigger']): Job => ({ id: 1, target: 't', kind: 'full', trigger, status: 'queued', attempt: 1, pathsCount: 0, pathsTruncated: false, filesTransferred: null, bytesTransferred: null, exitCode: null, error: null, warning: null, requestedBy: null, createdAt: 0, startedAt: null, finishedAt: null, durationMs: null })
const running = (kind: 'incremental' | 'full') => ({ jobId: 1, kind, abort: new AbortController(), done: Promise.resolve() })

function target (edit: (t: TargetRuntime) => void = () => undefined): TargetRuntime {
  const t = newTargetRuntime(localTarget('t', '/tmp/replica/'), pino({ level: 'silent' }))
  edit(t)
  return t
}

function withBacklog (t: TargetRuntime, lastChangeAt: number, firstPendingAt = lastChangeAt): void {
  t.backlog.set('a', entry(1))
  t.lastChangeAt = lastChangeAt
  t.firstPendingAt = firstPendingAt
}

test('what a target does next, by the state of its record', () => {
  const cases: Array<[string, TargetRuntime, Partial<ScheduleInput>, ReturnType<typeof decideNext>]> = [
    ['nothing to do: no timer', target(), {}, { kind: 'sleep' }],
    ['a backlog in its quiet window: wake when it ends', target((t) => withBacklog(t, at - 40)), {}, { kind: 'wake', at: at + 60 }],
    ['a backlog quiet long enough: an incremental run', target((t) => withBacklog(t, at - 100)), {}, { kind: 'start', run: 'incremental' }],
    ['changes that keep coming: the oldest waited maxDelayMs', target((t) => withBacklog(t, at, at - 1_000)), {}, { kind: 'start', run: 'incremental' }],
    ['a flush waits: at once', target((t) => { withBacklog(t, at); t.flushWaiters = 1 }), {}, { kind: 'start', run: 'incremental' }],
    ['backing off: wake at the retry, flush or not', target((t) => { withBacklog(t, at - 500); t.retryAt = at + 700; t.flushWaiters = 1 }), {}, { kind: 'wake', at: at + 700 }],
    ['paused: nothing, not even a timer', target((t) => withBacklog(t, at - 500)), { paused: true }, { kind: 'sleep' }],
    ['an owed mirror goes first', target((t) => { withBacklog(t, at - 500); t.owedMirrorSeq = 2 }), {}, { kind: 'start', run: 'mirror' }],
    ['an owed mirror backing off: the incremental runs go meanwhile', target((t) => { withBacklog(t, at - 500); t.owedMirrorSeq = 2; t.mirrorRetryAt = at + 5_000 }), {}, { kind: 'start', run: 'incremental' }],
    ['an operator\'s mirror goes ahead of backoff and pause', target((t) => { t.queuedMirror = { job: job('api'), force: false }; t.mirrorRetryAt = at + 5_000 }), { paused: true }, { kind: 'start', run: 'mirror' }],
    ['a periodic mirror waits out its backoff', target((t) => { t.queuedMirror = { job: job('periodic'), force: false }; t.mirrorRetryAt = at + 5_000 }), {}, { kind: 'wake', at: at + 5_000 }],
    ['a run on the primary lane: leave everything as it is', target((t) => { withBacklog(t, at - 500); t.running = running('incremental') }), {}, { kind: 'none' }],
    ['a mirror runs: the backlog goes alongside it', target((t) => { withBacklog(t, at - 500); t.running = running('full') }), {}, { kind: 'start', run: 'alongsideMirror' }],
    ['a mirror runs, the backlog in its quiet window', target((t) => { withBacklog(t, at - 40); t.running = running('full') }), {}, { kind: 'wake', at: at + 60 }],
    ['a mirror runs and the target is failing: nothing alongside', target((t) => { withBacklog(t, at - 500); t.running = running('full'); t.failures = 1 }), {}, { kind: 'none' }],
    ['a run alongside a mirror outlived it: it finishes first', target((t) => { withBacklog(t, at - 500); t.alongsideMirror = { jobId: 2, batch: new Map(), abort: new AbortController(), done: Promise.resolve() } }), {}, { kind: 'none' }],
    ['the source is gone: every run waits', target((t) => { withBacklog(t, at - 500); t.owedMirrorSeq = 2 }), { sourceBlocked: true }, { kind: 'sleep' }],
  ]
  for (const [name, t, over, expected] of cases) assert.deepEqual(decideNext(t, input(over)), expected, name)
})

test('the state a target shows, by precedence: syncing, then a failure streak, then held deletions, then owed work', () => {
  const hold = { reason: 'limit' as const, count: 3, message: 'held', since: 0, jobId: 1, confirmed: false }
  const cases: Array<[TargetRuntime, boolean, string]> = [
    [target(), false, 'idle'],
    [target((t) => withBacklog(t, at)), false, 'waiting'],
    [target((t) => { t.owedMirrorSeq = 1 }), true, 'paused'],
    [target((t) => { t.hold = hold; withBacklog(t, at) }), false, 'held'],
    [target((t) => { t.hold = hold; t.failures = 1 }), false, 'retrying'],
    [target((t) => { t.mirrorFailures = 2; t.slowRetry = true }), false, 'failing'],
    [target((t) => { t.failures = 2; t.running = running('incremental') }), false, 'syncing'],
  ]
  for (const [t, paused, expected] of cases) assert.equal(stateOf(t, paused), expected)
})

test('the status counts the backlog apart from the runs, and the lag from the oldest change not delivered', () => {
  const t = target((t) => {
    t.backlog.set('a', entry(5, at - 300))
    t.inFlight = new Map([['b', entry(3, at - 900)]])
    t.alongsideMirror = null
    t.awaitingMirror.set('c', entry(1, at - 5_000))
    t.retryAt = at + 100
    t.mirrorRetryAt = at + 50
  })
  const s = statusOf(t, at, false)
  assert.equal(s.pending, 1)
  assert.equal(s.inFlight, 1)
  assert.equal(s.lagMs, 900, 'what awaits a mirror reached the target: no lag')
  assert.equal(s.nextRetryAt, at + 50, 'the sooner of the two lanes')
  assert.equal(undeliveredFloor(t), 1, 'but a flush still waits for it')
})

// Batching windows.

test('a change goes once no other change came for quietMs', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.recordChanges(['a.txt'])
  h.clock.advance(50)
  h.engine.recordChanges(['b.txt'])
  h.clock.advance(99)
  assert.equal(h.target().runningJobId, null, 'the second change restarted the quiet window')
  assert.equal(h.target().state, 'waiting')
  h.clock.advance(1)
  assert.notEqual(h.target().runningJobId, null)
  assert.equal(h.target().state, 'syncing')
  const run = await h.runner.next()
  assert.equal(run.kind, 'incremental')
  assert.deepEqual(run.listed.sort(), ['a.txt', 'b.txt'])
  run.end()
  const job = await h.nextFinished()
  assert.equal(job.status, 'succeeded')
  assert.equal(job.trigger, 'watch')
  assert.equal(h.target().state, 'idle')
  assert.equal(h.target().pending, 0)
})

test('changes that keep coming go maxDelayMs after the first one, quiet or not', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const t0 = h.clock.now()
  for (let i = 0; i < 11; i++) {
    h.engine.recordChanges([`f${i}.txt`])
    h.clock.advance(90)
  }
  assert.equal(h.target().runningJobId, null, 'at 990 ms nothing went: every gap was under quietMs')
  h.engine.recordChanges(['f11.txt'])
  h.clock.advance(10)
  const id = h.target().runningJobId
  assert.notEqual(id, null)
  assert.equal(h.job(id!).createdAt - t0, 1_000)
  const run = await h.runner.next()
  assert.equal(run.listed.length, 12)
  run.end()
  await h.nextFinished()
})

test('a batch carries at most maxPaths, and what did not fit goes next without waiting again', async (t) => {
  const h = await createEngineHarness(t, { options: (o) => ({ ...o, batch: { ...o.batch, maxPaths: 2 } }) })
  h.engine.start()
  const first = await h.runOf(['a', 'b', 'c'])
  assert.deepEqual(first.listed, ['a', 'b'])
  assert.equal(h.target().pending, 1)
  assert.equal(h.target().inFlight, 2)
  first.end()
  await h.nextFinished()
  const second = await h.runner.next()
  assert.deepEqual(second.listed, ['c'])
  second.end()
  await h.nextFinished()
  assert.equal(h.target().state, 'idle')
})

test('a change seen again while its run goes is sent again after it', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const first = await h.runOf(['a.txt'])
  h.engine.recordChanges(['a.txt'])
  assert.equal(h.target().pending, 1)
  first.end()
  await h.nextFinished()
  assert.equal(h.target().runningJobId, null, 'the new observation waits for its own quiet window')
  h.clock.advance(100)
  const second = await h.runner.next()
  assert.deepEqual(second.listed, ['a.txt'])
  second.end()
  await h.nextFinished()
})

test('pausing keeps recording changes and runs nothing; resuming sends them as a resume batch', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  assert.equal(h.engine.pause(), true)
  assert.equal(h.engine.pause(), false, 'idempotent')
  h.engine.recordChanges(['a.txt'])
  h.clock.advance(10_000)
  assert.equal(h.target().state, 'paused')
  assert.equal(h.target().runningJobId, null)
  assert.deepEqual(h.clock.waiting(), [], 'no timer while paused')
  h.engine.resume()
  const run = await h.runner.next()
  assert.equal(h.job(h.target().runningJobId!).trigger, 'resume')
  run.end()
  await h.nextFinished()
})

// Backoff after failures.

// The harness retries with jitter 0: retry.initialDelayMs 1000, doubling, at most retry.maxDelayMs 8000.

test('a failed run keeps its paths and retries after a delay that doubles with each failure', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.recordChanges(['a.txt'])
  h.clock.advance(100)
  const expected = [1_000, 2_000, 4_000]
  for (const [i, delay] of expected.entries()) {
    const run = await h.runner.next()
    const job = h.job(h.target().runningJobId!)
    assert.equal(job.attempt, i + 1)
    assert.equal(job.trigger, i === 0 ? 'watch' : 'retry')
    run.end({ exitCode: 12, stderrTail: 'rsync error: error in rsync protocol data stream' })
    const failed = await h.nextFinished()
    assert.equal(failed.status, 'failed')
    const s = h.target()
    assert.equal(s.state, 'retrying')
    assert.equal(s.consecutiveFailures, i + 1)
    assert.equal(s.pending, 1, 'the paths are kept')
    assert.equal(s.nextRetryAt, h.clock.now() + delay)
    assert.equal(s.lastError?.jobId, failed.id)
    h.clock.advance(delay - 1)
    assert.equal(h.target().runningJobId, null, `no retry before ${delay} ms`)
    h.clock.advance(1)
    assert.notEqual(h.target().runningJobId, null)
  }
  const run = await h.runner.next()
  run.end()
  await h.nextFinished()
  const s = h.target()
  assert.equal(s.state, 'idle')
  assert.equal(s.consecutiveFailures, 0)
  assert.equal(s.nextRetryAt, null)
  assert.equal(s.pending, 0)
})

test('a failure only an operator can fix (auth refused, exit 5) retries at the slowest pace and shows failing', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const run = await h.runOf(['a.txt'])
  run.end({ exitCode: 5, stderrTail: '@ERROR: auth failed on module backup' })
  await h.nextFinished()
  const s = h.target()
  assert.equal(s.state, 'failing')
  assert.equal(s.nextRetryAt, h.clock.now() + 8_000)
  h.clock.advance(8_000)
  const retry = await h.runner.next()
  retry.end()
  await h.nextFinished()
  assert.equal(h.target().state, 'idle', 'a success ends the slow pace too')
})

test('a run stopped by shutdown counts as no failure', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  await h.runOf(['a.txt'])
  const destroyed = h.engine.destroy()
  const job = await h.nextFinished()
  await destroyed
  assert.equal(job.status, 'interrupted')
  assert.equal(h.target().consecutiveFailures, 0)
  assert.equal(h.target().pending, 1, 'its paths stay pending')
  assert.equal(h.settings.get('engine.lifecycle'), 'stopped')
})

test('a mirror that keeps failing backs off apart and does not hold the changes back', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.requestFullSync({ trigger: 'startup' })
  const mirror = await h.runner.next()
  assert.equal(mirror.kind, 'full')
  mirror.end({ exitCode: 10 })
  await h.nextFinished()
  assert.equal(h.target().state, 'retrying')
  const incremental = await h.runOf(['a.txt'])
  assert.equal(incremental.kind, 'incremental', 'the change went while the mirror waits out its backoff')
  incremental.end()
  await h.nextFinished()
  assert.equal(h.target().consecutiveFailures, 1, 'the mirror\'s streak is its own')
  h.clock.advance(900)
  const again = await h.runner.next()
  assert.equal(again.kind, 'full')
  assert.equal(h.job(h.target().runningJobId!).trigger, 'retry')
  again.end()
  await h.nextFinished()
  assert.equal(h.target().state, 'idle')
})

// Sent checks.

test('a name a run sent that is gone from the source a second later is recorded as a change, so the target deletes it', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.requestFullSync({ trigger: 'api' })
  const mirror = await h.runner.next()
  mirror.end({ sent: ['seed.txt', 'upload.part'] })
  await h.nextFinished()
  assert.equal(h.target().pending, 0)
  h.clock.advance(999)
  assert.equal(h.target().pending, 0)
  h.clock.advance(1)
  await waitFor(() => h.target().pending === 1, { message: 'upload.part is owed: it is not in the source' })
  h.clock.advance(100)
  const run = await h.runner.next()
  assert.deepEqual(run.listed, ['upload.part'], 'seed.txt is still in the source')
  run.end()
  await h.nextFinished()
})
