import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createEngineHarness } from '../helpers/engine-harness.js'

test('a flush starts the run at once, without the quiet window, and names the job that carried its changes', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const flushing = h.engine.flush({ paths: ['upload.bin'], timeoutMs: 5_000 })
  const run = await h.runner.next()
  assert.deepEqual(run.listed, ['upload.bin'])
  run.end()
  const result = await flushing
  assert.equal(result.done, true)
  assert.deepEqual(result.jobs.map((j) => j.status), ['succeeded'])
  assert.deepEqual(result.jobs[0]!.kind, 'incremental')
})

test('a flush with nothing undelivered is done at once', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  assert.deepEqual(await h.engine.flush({ timeoutMs: 1_000 }), { done: true, jobs: [] })
})

test('a flush waits for changes observed before it, not for later ones', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.recordChanges(['before.txt'])
  const flushing = h.engine.flush({ timeoutMs: 5_000 })
  const run = await h.runner.next()
  h.engine.recordChanges(['after.txt'])
  run.end()
  const result = await flushing
  assert.equal(result.done, true)
  assert.deepEqual(result.jobs.length, 1)
  const later = await h.runner.next()
  assert.deepEqual(later.listed, ['after.txt'], 'after.txt goes in a run of its own')
  later.end()
  await h.nextFinished()
})

test('a flush whose timeout passes first says so, and the work goes on', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const flushing = h.engine.flush({ paths: ['slow.bin'], timeoutMs: 500 })
  const run = await h.runner.next()
  h.clock.advance(500)
  assert.deepEqual(await flushing, { done: false, jobs: [] })
  run.end()
  assert.equal((await h.nextFinished()).status, 'succeeded')
})

test('a flush waits for a failed run\'s retry, and the retry goes when its backoff ends', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const flushing = h.engine.flush({ paths: ['a.txt'], timeoutMs: 60_000 })
  const first = await h.runner.next()
  first.end({ exitCode: 12 })
  await h.nextFinished()
  h.clock.advance(1_000)
  const retry = await h.runner.next()
  retry.end()
  const result = await flushing
  assert.equal(result.done, true)
  assert.deepEqual(result.jobs.map((j) => j.attempt), [2])
})

test('a flush while paused is refused', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.pause()
  // What to do about it is the HTTP handler's and the CLI's to say (error-hints.ts).
  await assert.rejects(h.engine.flush({ timeoutMs: 1_000 }), { code: 'WATCH_PAUSED', message: 'watching is paused: nothing would reach the targets' })
})
