import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { EngineOptions } from '../../src/sync/engine.js'
import { createEngineHarness } from '../helpers/engine-harness.js'

// deletes.maxFiles 10: a run may delete at most 10 entries; its first pass counts them (--max-delete=0, exit 25).
const limited = { options: (o: EngineOptions): EngineOptions => ({ ...o, deletes: { maxFiles: 10, maxPercent: 100, minFiles: 0 } }) }

test('a run whose first pass counts more deletions than the limit holds them, makes no second pass, and says so', async (t) => {
  const h = await createEngineHarness(t, limited)
  h.engine.start()
  const first = await h.runOf(['gone'])
  assert.ok(first.invocation.args.includes('--max-delete=0'), 'the first pass only counts')
  first.end({ exitCode: 25, skippedDeletes: 50 })
  const job = await h.nextFinished()
  assert.equal(job.status, 'succeeded')
  assert.match(job.warning ?? '', /50 deletions held/)
  assert.equal(h.runner.running(), 0, 'no second pass')
  const s = h.target()
  assert.equal(s.state, 'held')
  assert.equal(s.deletesHeld?.count, 50)
  assert.equal(s.deletesHeld?.reason, 'limit')
  assert.equal(s.deletesHeld?.jobId, job.id)
  assert.equal(JSON.parse(h.settings.get('target.backup.deletesHeld')!).count, 50, 'the hold is durable')
})

test('within the limit a second pass makes the deletions, limited to what the guard allows', async (t) => {
  const h = await createEngineHarness(t, limited)
  h.engine.start()
  const first = await h.runOf(['gone'])
  first.end({ exitCode: 25, skippedDeletes: 5 })
  const second = await h.runner.next()
  assert.ok(second.invocation.args.includes('--max-delete=10'))
  assert.ok(second.invocation.args.includes('--existing'), 'the second pass sends nothing more')
  second.end()
  const job = await h.nextFinished()
  assert.equal(job.status, 'succeeded')
  assert.equal(job.warning, null)
  assert.equal(h.target().deletesHeld, null)
  assert.equal(h.target().state, 'idle')
})

test('held deletions, once confirmed, are made by a forced mirror, and the hold ends', async (t) => {
  const h = await createEngineHarness(t, limited)
  h.engine.start()
  h.engine.recordChanges(['gone'])
  h.clock.advance(100)
  ;(await h.runner.next()).end({ exitCode: 25, skippedDeletes: 50 })
  await h.nextFinished()
  assert.throws(() => h.engine.confirmDeletes('backup', { expected: 49 }), { code: 'DELETES_CHANGED' })
  const { job } = h.engine.confirmDeletes('backup', { expected: 50, requestedBy: 'ops' })
  assert.equal(job.kind, 'full')
  assert.equal(job.requestedBy, 'ops')
  assert.equal(h.target().deletesHeld?.confirmed, true)
  const mirror = await h.runner.next()
  assert.equal(mirror.kind, 'full')
  assert.ok(!mirror.invocation.args.some((a) => a.startsWith('--max-delete')), 'unlimited')
  mirror.end()
  await h.nextFinished()
  assert.equal(h.target().deletesHeld, null)
  assert.equal(h.settings.get('target.backup.deletesHeld'), undefined)
  assert.throws(() => h.engine.confirmDeletes('backup'), { code: 'NO_DELETES_HELD' })
})

test('a mirror counting more deletions than the limit holds them all, and a later mirror\'s count replaces the sum', async (t) => {
  const h = await createEngineHarness(t, limited)
  h.engine.start()
  h.engine.requestFullSync({ trigger: 'api' })
  ;(await h.runner.next()).end({ exitCode: 25, skippedDeletes: 30 })
  await h.nextFinished()
  assert.equal(h.target().deletesHeld?.count, 30)
  h.engine.requestFullSync({ trigger: 'api' })
  ;(await h.runner.next()).end({ exitCode: 25, skippedDeletes: 40 })
  await h.nextFinished()
  assert.equal(h.target().deletesHeld?.count, 40)
})
