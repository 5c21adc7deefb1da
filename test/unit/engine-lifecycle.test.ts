import { test } from 'node:test'
import assert from 'node:assert/strict'
import { baseOptions, createEngineHarness, localTarget } from '../helpers/engine-harness.js'
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
  await h.runOf(['a.txt'])
  const closing = h.engine.close()
  assert.throws(() => h.engine.requestFullSync({ trigger: 'api' }), { code: 'ENGINE_CLOSED' })
  const destroying = h.engine.destroy()
  assert.equal(closing, destroying, 'the second call joins the first')
  await destroying
  assert.equal(h.settings.get('engine.lifecycle'), 'stopped')
})

test('a reload that moves a destination stops its run, keeps its changes and owes it a mirror', async (t) => {
  const h = await createEngineHarness(t)
  h.engine.start()
  const run = await h.runOf(['a.txt'])
  const moved = localTarget('backup', '/elsewhere/')
  const done = h.engine.reconfigure(baseOptions(h.source), [moved])
  assert.deepEqual(done, { added: [], removed: [], changed: ['backup'], mirrorOwed: ['backup'] })
  assert.equal(run.invocation.signal?.aborted, true, 'the run to the old destination stops')
  const interrupted = await h.nextFinished()
  assert.equal(interrupted.status, 'interrupted')
  const mirror = await h.runner.next()
  assert.equal(mirror.kind, 'full')
  assert.equal(h.job(h.target().runningJobId!).trigger, 'reload')
  assert.ok(mirror.invocation.args.includes('/elsewhere/'))
  mirror.end()
  await h.nextFinished()
  assert.equal(h.target().pending, 0, 'the mirror carried the change too')
})

test('a reload that removes a target stops its run, ends its queued mirror, and a flush stops waiting for it', async (t) => {
  const h = await createEngineHarness(t, { targets: ['backup', 'spare'] })
  h.engine.start()
  h.engine.recordChanges(['a.txt'])
  h.clock.advance(100)
  const runs = [await h.runner.next(), await h.runner.next()]
  const isSpare = (r: typeof runs[number]): boolean => r.invocation.args.some((a) => a.endsWith('/spare/'))
  const spareRun = runs.find(isSpare)!
  const backupRun = runs.find((r) => !isSpare(r))!
  const [spareMirror] = h.engine.requestFullSync({ targets: ['spare'], trigger: 'api' })
  assert.equal(h.target('spare').queuedFullJobId, spareMirror!.id, 'queued behind the run')
  const flushing = h.engine.flush({ timeoutMs: 60_000 })

  const done = h.engine.reconfigure(baseOptions(h.source), [localTarget('backup', h.target('backup').url)])
  assert.deepEqual(done.removed, ['spare'])
  assert.equal(spareRun.invocation.signal?.aborted, true)
  assert.deepEqual(h.engine.status().targets.map((s) => s.name), ['backup'])
  const ended = h.job(spareMirror!.id)
  assert.equal(ended.status, 'interrupted')
  assert.match(ended.error ?? '', /removed from the configuration/)

  backupRun.end()
  assert.equal((await flushing).done, true)
})

test('a reconfigure with another source is refused with its code and changes nothing (the reload refuses it before)', async (t) => {
  const h = await createEngineHarness(t)
  assert.throws(() => h.engine.reconfigure(baseOptions(`${h.source}-elsewhere`), []), { code: 'SP_SOURCE_CHANGED', message: /the source cannot change while running/ })
  assert.deepEqual(h.engine.status().targets.map((s) => s.name), ['backup'])
})
