import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createEngineHarness } from '../helpers/engine-harness.js'
import { SyncplaneError } from '../../src/errors.js'

// Per-target control (src/sync/target-control.ts): pause and resume one target, its pending paths, cancelling a job.

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return err instanceof SyncplaneError ? err.code : 'not a SyncplaneError'
  }
  return undefined
}

test('a paused target starts nothing while the others go on; resumed, its changes go in a run marked resume', async (t) => {
  const h = await createEngineHarness(t, { targets: ['a', 'b'] })
  h.engine.start()
  assert.equal(h.engine.pauseTarget('a'), true)
  assert.equal(h.engine.pauseTarget('a'), false, 'idempotent')
  const run = await h.runOf(['x.txt'])
  assert.equal(run.invocation.args.at(-1), `${h.target('b').url}`, 'only b runs')
  assert.equal(h.target('a').state, 'paused')
  assert.equal(h.target('a').paused, true)
  assert.equal(h.target('a').pending, 1, 'its change is kept')
  run.end()
  await h.nextFinished()
  h.clock.advance(60_000)
  assert.equal(h.runner.unclaimed(), 0, 'nothing started for a')

  assert.equal(h.engine.resumeTarget('a'), true)
  h.clock.advance(1_000)
  const resumed = await h.runner.next()
  assert.deepEqual(resumed.listed, ['x.txt'])
  assert.equal(h.job(h.target('a').runningJobId!).trigger, 'resume')
  assert.equal(codeOf(() => h.engine.pauseTarget('nope')), 'TARGET_NOT_FOUND')
})

test('a target\'s pause is kept across restarts', async (t) => {
  const first = await createEngineHarness(t, { targets: ['a', 'b'] })
  first.engine.pauseTarget('b')
  const stored = first.settings.get('targets.paused')
  assert.equal(stored, '["b"]')
  const second = await createEngineHarness(t, { targets: ['a', 'b'], before: ({ settings }) => settings.set('targets.paused', stored!) })
  assert.equal(second.target('b').paused, true)
  assert.equal(second.target('a').paused, false)
})

test('the pending paths of one target, paged in path order, with the oldest time each was seen', async (t) => {
  const h = await createEngineHarness(t, { targets: ['a'] })
  h.engine.start()
  h.engine.pauseTarget('a')
  h.engine.recordChanges(['c', 'a', 'b'])
  h.clock.advance(10)
  h.engine.recordChanges(['d', 'a'])
  const first = h.engine.pendingOf('a', { limit: 2 })
  assert.equal(first.total, 4)
  assert.deepEqual(first.items.map((i) => i.path), ['a', 'b'])
  assert.equal(first.items[0]!.since, first.items[1]!.since, 'a path seen twice keeps the first time')
  assert.equal(first.next, 'b')
  const second = h.engine.pendingOf('a', { limit: 2, after: first.next! })
  assert.deepEqual(second.items.map((i) => i.path), ['c', 'd'])
  assert.equal(second.next, null)
  assert.equal(second.fullSyncPending, false)
})

test('a cancelled run ends interrupted with its paths still pending, and its target waits before trying again', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const run = await h.runOf(['big.iso'])
  const id = h.target().runningJobId!
  h.engine.cancelJob(id)
  const job = await h.nextFinished()
  assert.equal(job.status, 'interrupted')
  assert.equal(job.error, 'cancelled by an operator')
  assert.equal(h.target().pending, 1, 'the path stays pending')
  assert.equal(h.target().consecutiveFailures, 0, 'a cancel is no failure')
  assert.equal(run.invocation.signal?.aborted, true)
  h.clock.advance(7_999)
  assert.equal(h.runner.unclaimed(), 0, 'not undone at once')
  h.clock.advance(1)
  const again = await h.runner.next()
  assert.deepEqual(again.listed, ['big.iso'])
  again.end()
  await h.nextFinished()
  assert.equal(codeOf(() => h.engine.cancelJob(id)), 'JOB_NOT_RUNNING', 'a finished job cannot be cancelled')
  assert.equal(codeOf(() => h.engine.cancelJob(9_999)), 'JOB_NOT_FOUND')
})

test('a mirror waiting to start is cancelled before it runs', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.pauseTarget('backup')
  // Paused: a periodic mirror's job waits (an operator's would go ahead of the pause).
  const [queued] = h.engine.requestFullSync({ trigger: 'periodic' })
  assert.ok(queued !== undefined)
  const job = h.engine.cancelJob(queued.id)
  assert.equal(job.status, 'interrupted')
  assert.equal(h.target().queuedFullJobId, null)
})
