import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget, type TestTarget } from '../helpers/targets.js'
import { jobsOf } from '../helpers/stores.js'

describe('POST /v1/flush', () => {
  let tmp: TempDir
  let daemon: TestTarget
  let local: TestTarget
  let sp: SyncplaneHarness

  const teardown = suiteTeardown()
  before(async () => {
    tmp = await makeTempDir(teardown)
    daemon = await startTarget(tmp, 'daemon', 'web2')
    local = await startTarget(tmp, 'local', 'backup')
    // A long quiet window: without the barrier's urgency a flush would wait for it.
    sp = await startSyncplane(tmp, { targets: [daemon.config, local.config], env: daemon.env, config: { batch: { quietMs: 2_000, maxDelayMs: 5_000 } } })
  })

  test('returns only once the named path is on every target', async () => {
    const name = 'upload with space.jpg'
    await writeFile(path.join(sp.source, name), 'fresh upload')
    const started = performance.now()
    const res = await sp.app.inject({ method: 'POST', url: '/v1/flush', payload: { paths: [name] } })
    const tookMs = performance.now() - started
    assert.equal(res.statusCode, 200, res.body)
    // Checked on the targets themselves, not trusted from the answer.
    assert.equal(await readFile(path.join(daemon.dir, name), 'utf8'), 'fresh upload')
    assert.equal(await readFile(path.join(local.dir, name), 'utf8'), 'fresh upload')
    const jobs = res.json().jobs as Array<{ target: string; status: string }>
    assert.deepEqual(new Set(jobs.map((j) => j.target)), new Set(['web2', 'backup']))
    assert.ok(jobs.every((j) => j.status === 'succeeded'))
    assert.ok(tookMs < 2_000, `the barrier did not wait for the quiet window (${Math.round(tookMs)} ms)`)
  })

  test('concurrent flushes share rsync runs', async () => {
    const before = jobsOf(sp.services.jobs).length
    const names = Array.from({ length: 20 }, (_, i) => `concurrent-${i}.txt`)
    await Promise.all(names.map((n) => writeFile(path.join(sp.source, n), n)))
    const answers = await Promise.all(names.map((n) => sp.app.inject({ method: 'POST', url: '/v1/flush', payload: { paths: [n], targets: ['backup'] } })))
    assert.ok(answers.every((a) => a.statusCode === 200))
    for (const n of names) assert.equal(await readFile(path.join(local.dir, n), 'utf8'), n)
    const runs = jobsOf(sp.services.jobs).length - before
    assert.ok(runs < names.length, `${runs} runs for ${names.length} flushes`)
  })

  test('a flush with nothing pending answers at once', async () => {
    await sp.app.inject({ method: 'POST', url: '/v1/flush' })
    const res = await sp.app.inject({ method: 'POST', url: '/v1/flush' })
    assert.equal(res.statusCode, 200)
  })

  test('answers 504 when the timeout passes first, and 409 while paused', async () => {
    await daemon.daemon!.stop()
    await writeFile(path.join(sp.source, 'stuck.txt'), 'cannot reach web2')
    const slow = await sp.app.inject({ method: 'POST', url: '/v1/flush', payload: { paths: ['stuck.txt'], timeout: 0.5 } })
    assert.equal(slow.statusCode, 504)
    await daemon.daemon!.restart()

    await sp.app.inject({ method: 'POST', url: '/v1/watch/pause' })
    const paused = await sp.app.inject({ method: 'POST', url: '/v1/flush', payload: {} })
    assert.equal(paused.statusCode, 409)
    assert.equal(paused.json().code, 'WATCH_PAUSED')
    assert.equal(paused.json().detail, 'watching is paused: nothing would reach the targets; POST /v1/watch/resume first')
    await sp.app.inject({ method: 'POST', url: '/v1/watch/resume' })
  })

  test('paths outside the source are refused', async () => {
    for (const bad of ['/etc/passwd', '../escape', 'a/../../b']) {
      const res = await sp.app.inject({ method: 'POST', url: '/v1/flush', payload: { paths: [bad] } })
      assert.equal(res.statusCode, 400, bad)
    }
  })

  test('GET /v1/jobs?path= finds the jobs that carried a path', async () => {
    const res = await sp.app.inject({ url: `/v1/jobs?path=${encodeURIComponent('upload with space.jpg')}` })
    const jobs = res.json().jobs as Array<{ target: string; kind: string }>
    assert.ok(jobs.length >= 2)
    assert.ok(jobs.every((j) => j.kind === 'incremental'))
  })
})
