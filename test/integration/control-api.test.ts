import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile, rm, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { diffTrees, isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget, type TestTarget } from '../helpers/targets.js'

interface JobDto { id: number; target: string; kind: string; trigger: string; status: string; requestedBy: string | null; filesTransferred: number | null }

describe('the control API against a live rsync daemon target', () => {
  let tmp: TempDir
  let target: TestTarget
  let sp: SyncplaneHarness
  const converged = () => waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 15_000 })
  const jobs = async (query = ''): Promise<JobDto[]> => (await sp.app.inject({ url: `/v1/jobs?limit=500${query}` })).json().jobs

  const teardown = suiteTeardown()
  before(async () => {
    tmp = await makeTempDir(teardown)
    target = await startTarget(tmp, 'daemon', 'web2')
    sp = await startSyncplane(tmp, { targets: [target.config], env: target.env })
    await waitFor(async () => (await jobs('&kind=full')).some((j) => j.status === 'succeeded'), { message: 'startup full sync' })
  })

  test('healthz is always ok and readyz is ready once the watcher runs', async () => {
    const health = await sp.app.inject({ url: '/healthz' })
    assert.equal(health.statusCode, 200)
    assert.deepEqual(health.json(), { status: 'ok' })
    const ready = await sp.app.inject({ url: '/readyz' })
    assert.equal(ready.statusCode, 200)
    assert.equal(ready.json().checks.watcher.state, 'running')
    assert.equal(ready.json().checks.database.ok, true)
  })

  test('status shows the watcher and each target', async () => {
    const res = await sp.app.inject({ url: '/v1/status' })
    assert.equal(res.statusCode, 200)
    const body = res.json()
    assert.equal(body.watcher.state, 'running')
    assert.equal(body.paused, false)
    assert.equal(body.targets.length, 1)
    assert.equal(body.targets[0].name, 'web2')
    assert.equal(body.targets[0].pending, 0)
    assert.match(body.targets[0].lastSuccessAt, /^\d{4}-\d\d-\d\dT/)
  })

  test('changes made while paused create no jobs and replicate after resume', async () => {
    // An existing, watched directory: files written fast into a brand-new
    // one may come before its watch and reach the journal only as the directory.
    await mkdir(path.join(sp.source, 'while-paused'))
    await converged()
    await waitFor(async () => (await sp.app.inject({ url: '/v1/status' })).json().targets[0].state === 'idle', { message: 'the target is idle' })
    const pause = await sp.app.inject({ method: 'POST', url: '/v1/watch/pause' })
    assert.deepEqual(pause.json(), { paused: true, changed: true })
    assert.deepEqual((await sp.app.inject({ method: 'POST', url: '/v1/watch/pause' })).json(), { paused: true, changed: false })
    const before = (await jobs()).length

    for (let i = 0; i < 10; i++) await writeFile(path.join(sp.source, 'while-paused', `f${i}`), `paused ${i}`)
    const status = await waitFor(async () => {
      const s = (await sp.app.inject({ url: '/v1/status' })).json()
      return s.targets[0].pending >= 10 ? s : undefined
    }, { message: 'changes recorded while paused' })
    assert.equal(status.watcher.state, 'paused')
    assert.equal(status.targets[0].state, 'paused')
    assert.ok((await diffTrees(sp.source, target.dir)).length > 0, 'nothing replicated while paused')
    assert.equal((await jobs()).length, before, 'no job ran while paused')

    assert.deepEqual((await sp.app.inject({ method: 'POST', url: '/v1/watch/resume' })).json(), { paused: false, changed: true })
    await converged()
    const after = await jobs()
    assert.ok(after.length > before)
    assert.equal(after[0]!.trigger, 'resume')
  })

  test('POST /v1/resync?wait=true repairs a target changed behind our back', async () => {
    await writeFile(path.join(sp.source, 'keep.txt'), 'the truth')
    await converged()
    await writeFile(path.join(target.dir, 'keep.txt'), 'tampered!')
    await writeFile(path.join(target.dir, 'intruder.txt'), 'not on the source')
    await rm(path.join(target.dir, 'while-paused'), { recursive: true })

    const res = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true' })
    assert.equal(res.statusCode, 200, res.body)
    const [job] = res.json().jobs as JobDto[]
    assert.equal(job!.status, 'succeeded')
    assert.equal(job!.kind, 'full')
    assert.equal(job!.trigger, 'api')
    assert.equal(job!.requestedBy, '127.0.0.1')
    assert.deepEqual(await diffTrees(sp.source, target.dir, { ignore: isRsyncTempFile }), [])

    const listed = await jobs('&kind=full&trigger=api')
    assert.equal(listed[0]!.id, job!.id)
    const detail = await sp.app.inject({ url: `/v1/jobs/${job!.id}` })
    assert.equal(detail.statusCode, 200)
    assert.equal(detail.json().job.status, 'succeeded')
  })

  test('POST /v1/resync without wait answers 202 with the queued jobs', async () => {
    const res = await sp.app.inject({ method: 'POST', url: '/v1/resync', payload: { targets: ['web2'] } })
    assert.equal(res.statusCode, 202)
    const [job] = res.json().jobs as JobDto[]
    assert.ok(['queued', 'running'].includes(job!.status))
    await waitFor(async () => (await sp.app.inject({ url: `/v1/jobs/${job!.id}` })).json().job.status === 'succeeded', { message: 'the queued full sync finishes' })
  })

  test('job history filters, pages by cursor and keeps the paths of a job', async () => {
    await writeFile(path.join(sp.source, 'findme.txt'), 'x')
    await converged()
    // The file can land before its job row is closed: wait for the row.
    const detail = await waitFor(async () => {
      const incremental = await jobs('&kind=incremental&status=succeeded')
      assert.ok(incremental.every((j) => j.kind === 'incremental' && j.status === 'succeeded'))
      const d = (await sp.app.inject({ url: `/v1/jobs/${incremental[0]!.id}` })).json()
      return d.paths.includes('findme.txt') ? d : undefined
    }, { message: 'the job that carried findme.txt' })
    assert.equal(detail.job.pathsTruncated, false)

    const all = await jobs()
    const page1 = (await sp.app.inject({ url: '/v1/jobs?limit=2' })).json()
    assert.equal(page1.jobs.length, 2)
    assert.deepEqual(page1.jobs.map((j: JobDto) => j.id), all.slice(0, 2).map((j) => j.id))
    const page2 = (await sp.app.inject({ url: `/v1/jobs?limit=2&cursor=${page1.nextCursor as number}` })).json()
    assert.deepEqual(page2.jobs.map((j: JobDto) => j.id), all.slice(2, 4).map((j) => j.id))

    const future = (await sp.app.inject({ url: '/v1/jobs?since=2999-01-01T00:00:00Z' })).json()
    assert.deepEqual(future, { jobs: [], nextCursor: null })
    const past = (await sp.app.inject({ url: '/v1/jobs?until=2000-01-01T00:00:00Z' })).json()
    assert.deepEqual(past.jobs, [])
  })

  test('the OpenAPI document and Swagger UI are served', async () => {
    const doc = await sp.app.inject({ url: '/openapi.json' })
    assert.equal(doc.statusCode, 200)
    assert.equal(doc.json().info.title, 'syncplane')
    const ui = await sp.app.inject({ url: '/docs/' })
    assert.equal(ui.statusCode, 200)
    assert.match(ui.headers['content-type'] as string, /html/)
  })
})
