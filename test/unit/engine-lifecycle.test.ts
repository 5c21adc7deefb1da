import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createEngineHarness } from '../helpers/engine-harness.js'
import { waitFor } from '../helpers/wait-for.js'

test('making the engine writes nothing; start() ends the jobs the previous process left and stores the mirror its crash makes owed', async (t) => {
  let leftRunning = 0
  const h = await createEngineHarness(t, {
    options: (o) => ({ ...o, fullSync: { ...o.fullSync, afterCrash: true } }),
    before: ({ settings, jobs }) => {
      settings.set('engine.lifecycle', 'running')
      leftRunning = jobs.create({ target: 'backup', kind: 'incremental', trigger: 'watch', status: 'running', attempt: 1, paths: ['x'], now: 1 }).id
    },
  })
  assert.equal(h.job(leftRunning).status, 'running', 'not touched before start()')
  assert.equal(h.settings.get('target.backup.fullOwedSeq'), undefined, 'not stored before start()')
  assert.equal(h.target().fullSyncPending, true, 'but the status knows a mirror is owed')

  h.engine.start()
  assert.equal(h.job(leftRunning).status, 'interrupted')
  assert.ok(h.settings.get('target.backup.fullOwedSeq') !== undefined)
  assert.equal(h.settings.get('engine.lifecycle'), 'running')
  const mirror = await h.runner.next()
  assert.equal(mirror.kind, 'full')
  assert.equal(h.job(h.target().runningJobId!).trigger, 'recovery')
  mirror.end()
  await h.nextFinished()
  assert.equal(h.settings.get('target.backup.fullOwedSeq'), undefined)
})

test('a clean stop owes nothing: the journal it left is restored and sent', async (t) => {
  const h = await createEngineHarness(t, {
    before: ({ settings, pending }) => {
      settings.set('engine.lifecycle', 'stopped')
      pending.upsert([{ target: 'backup', path: 'journaled.txt', seq: 7, observedAt: 5 }])
    },
  })
  assert.equal(h.target().pending, 1)
  assert.equal(h.target().fullSyncPending, false)
  h.engine.start()
  const run = await h.runner.next()
  assert.equal(run.kind, 'incremental', 'restored changes go without a quiet window')
  assert.deepEqual(run.listed, ['journaled.txt'])
  run.end()
  await h.nextFinished()
  await waitFor(() => h.pending.loadAll().length === 0, { message: 'the delivered row leaves the journal' })
})

test('the journal of a target no longer configured is dropped once the engine is used (here: closed before it started)', async (t) => {
  const h = await createEngineHarness(t, {
    before: ({ pending }) => pending.upsert([{ target: 'gone', path: 'a', seq: 1, observedAt: 1 }]),
  })
  assert.equal(h.pending.loadAll().length, 1)
  await h.engine.close()
  assert.deepEqual(h.pending.loadAll(), [])
  assert.equal(h.settings.get('engine.lifecycle'), 'stopped')
})

test('close() and destroy() called together drain once', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  h.engine.recordChanges(['a.txt'])
  h.clock.advance(100)
  await h.runner.next()
  const closing = h.engine.close()
  assert.throws(() => h.engine.requestFullSync({ trigger: 'api' }), { code: 'ENGINE_CLOSED' })
  const destroying = h.engine.destroy()
  assert.equal(closing, destroying, 'the second call joins the first')
  await destroying
  assert.equal(h.settings.get('engine.lifecycle'), 'stopped')
})
