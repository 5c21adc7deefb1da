import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget, type TargetKind, type TestTarget } from '../helpers/targets.js'
import { canMount, mountTmpfs, unmountLazily } from '../helpers/tmpfs.js'
import { spawnService } from '../helpers/service-process.js'

const skip = canMount() ? false : 'mounting a tmpfs needs root'

async function fill (dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (let i = 0; i < count; i++) await writeFile(path.join(dir, `upload-${i}.jpg`), `photo ${i}`)
}

const count = async (dir: string): Promise<number> => (await readdir(dir).catch(() => [])).length

/** A tmpfs mounted at the test's source path, holding 50 uploads in sub/. */
async function mountedUploads (tmp: TempDir): Promise<string> {
  const source = path.join(tmp.path, 'source')
  await mountTmpfs(tmp, source)
  await fill(path.join(source, 'sub'), 50)
  return source
}

export interface SetUpOptions {
  mount?: boolean
  config?: (source: string) => Record<string, unknown>
  before?: (source: string) => Promise<void>
}

export async function setUp (t: TestContext, kind: TargetKind, opts: SetUpOptions = {}): Promise<{ sp: SyncplaneHarness, target: TestTarget }> {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, kind, 'web2')
  const source = path.join(tmp.path, 'source')
  if (opts.mount === true) await mountTmpfs(tmp, source)
  await mkdir(source, { recursive: true })
  await opts.before?.(source)
  const sp = await startSyncplane(tmp, { targets: [target.config], env: target.env, config: opts.config?.(source) })
  tmp.after(() => {
    if (process.env.SYNCPLANE_TEST_LOGS === '1') console.log(sp.logs.join('\n'))
  })
  return { sp, target }
}

const status = async (sp: SyncplaneHarness) => (await sp.app.inject({ url: '/v1/status' })).json()

async function startupMirrorDone (sp: SyncplaneHarness): Promise<void> {
  await waitFor(async () => (await sp.app.inject({ url: '/v1/jobs?kind=full&status=succeeded' })).json().jobs.length > 0, { message: 'the startup mirror succeeds' })
}

for (const kind of ['local', 'daemon'] as TargetKind[]) {
  describe(`a source fault never costs the ${kind} replica`, { skip }, () => {
    test('an unmounted source volume deletes nothing; an upload into the bare mount point still arrives', async (t) => {
      const { sp, target } = await setUp(t, kind, { mount: true, before: (source) => fill(path.join(source, 'sub'), 50) })
      await startupMirrorDone(sp)
      assert.equal(await count(path.join(target.dir, 'sub')), 50)

      const unmountedAt = Date.now()
      unmountLazily(sp.source)
      const fault = await waitFor(async () => (await status(sp)).sourceFault, { timeoutMs: 2_000, message: 'the unmount is seen within 2 s' })
      assert.equal(fault.kind, 'unmounted')
      assert.ok(Date.now() - unmountedAt < 2_000)
      const ready = await sp.app.inject({ url: '/readyz' })
      assert.equal(ready.statusCode, 503)
      assert.match(ready.json().checks.watcher.detail, /was a mount point and is not one any more/)
      assert.ok(sp.services.http.events.since(0).events.some((e) => e.type === 'watcher.degraded'), 'an SSE event says so')
      assert.ok(sp.logs.some((l) => l.includes('"msg":"source fault"')), 'a log line says so')

      await writeFile(path.join(sp.source, 'after-unmount.jpg'), 'new upload')
      await waitFor(() => readFile(path.join(target.dir, 'after-unmount.jpg'), 'utf8'), { message: 'the upload into the mount point arrives' })
      // The watcher's own mirror of the directory it now watches has run.
      await waitFor(async () => (await sp.app.inject({ url: '/v1/jobs?kind=full' })).json().jobs.filter((j: { trigger: string, status: string }) => j.trigger === 'watcher' && j.status === 'succeeded').length > 0,
        { message: 'the mirror of the re-watched source finishes' })
      assert.equal(await count(path.join(target.dir, 'sub')), 50, 'every replicated file is still there')

      // A run may still be going (state syncing): held once it settles.
      const s = await waitFor(async () => { const now = await status(sp); return now.targets[0].state === 'held' ? now : null }, { message: 'the target settles as held' })
      assert.equal(s.watcher.state, 'degraded')
      assert.equal(s.targets[0].deletesHeld.reason, 'source')

      const resync = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true' })
      assert.equal(resync.statusCode, 409, resync.body)
      assert.equal(resync.json().deletesHeld[0].target, 'web2')
      assert.equal(resync.json().deletesHeld[0].count, 50, 'the mirror counted what it would have deleted')
      assert.equal(await count(path.join(target.dir, 'sub')), 50, 'a plain resync deleted nothing')
    })

    test('a replaced source root deletes nothing until an operator confirms, then the new directory is the source', async (t) => {
      const { sp, target } = await setUp(t, kind, { before: (source) => fill(path.join(source, 'sub'), 50) })
      await startupMirrorDone(sp)
      await rename(sp.source, `${sp.source}.moved`)
      await mkdir(sp.source)
      await writeFile(path.join(sp.source, 'new.txt'), 'x')
      await waitFor(() => readFile(path.join(target.dir, 'new.txt'), 'utf8'), { message: 'the upload in the new root arrives' })
      assert.equal((await status(sp)).sourceFault.kind, 'replaced')
      await waitFor(async () => (await status(sp)).targets[0].runningJobId === null && (await status(sp)).targets[0].fullSyncPending === false, { message: 'the re-watch mirror settles' })
      assert.equal(await count(path.join(target.dir, 'sub')), 50, 'the replaced root deleted nothing')

      const held = (await status(sp)).targets[0].deletesHeld
      const confirmed = await sp.app.inject({ method: 'POST', url: '/v1/targets/web2/deletes/confirm', payload: { expected: held.count } })
      assert.equal(confirmed.statusCode, 202, confirmed.body)
      await sp.services.engine.waitForJobs([confirmed.json().job.id])
      assert.deepEqual((await readdir(target.dir)).sort(), ['new.txt'], 'confirmed: the target mirrors the new root')
      const after = await status(sp)
      assert.equal(after.sourceFault, null, 'the new directory is the source now')
      assert.equal(after.targets[0].deletesHeld, null)
      assert.equal((await sp.app.inject({ url: '/readyz' })).statusCode, 200)
    })
  })
}

describe('a volume that did not mount before a restart', { skip }, () => {
  test('is caught before the first mirror: the startup mirror deletes nothing', async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'web2')
    const source = await mountedUploads(tmp)
    const first = await startSyncplane(tmp, { targets: [target.config] })
    await startupMirrorDone(first)
    await first.close()
    unmountLazily(source)
    await writeFile(path.join(source, 'written-while-down.jpg'), 'x')

    const again = await startSyncplane(tmp, { targets: [target.config] })
    assert.equal((await status(again)).sourceFault.kind, 'unmounted', 'known from the identity stored by the previous run')
    await waitFor(async () => (await status(again)).targets[0].deletesHeld?.count === 50, { message: 'the startup mirror holds what it would delete' })
    assert.equal(await count(path.join(target.dir, 'sub')), 50)
    assert.equal(await readFile(path.join(target.dir, 'written-while-down.jpg'), 'utf8'), 'x')
  })
})

describe('the built service (parcel on its worker thread)', { skip }, () => {
  test('an unmount is seen, deletes nothing, and the bare mount point is watched again', async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'web2')
    const source = await mountedUploads(tmp)
    const svc = await spawnService(tmp, { config: { source, targets: [target.config] } })
    tmp.after(() => {
      if (process.env.SYNCPLANE_TEST_LOGS === '1') console.log(svc.proc.output())
    })
    await svc.waitReady()
    await waitFor(async () => (await count(path.join(target.dir, 'sub'))) === 50, { message: 'the startup mirror arrives' })
    unmountLazily(source)
    await waitFor(async () => (await svc.api('/readyz')).status === 503, { timeoutMs: 2_000, message: 'not ready within 2 s' })
    await writeFile(path.join(source, 'after-unmount.jpg'), 'new upload')
    await waitFor(() => readFile(path.join(target.dir, 'after-unmount.jpg'), 'utf8'), { message: 'the upload into the mount point arrives' })
    await waitFor(async () => (await svc.api('/v1/status')).body.targets[0].deletesHeld?.count === 50, { message: 'the re-watch mirror counts what it held' })
    assert.equal(await count(path.join(target.dir, 'sub')), 50)
    assert.match(svc.proc.output(), /"msg":"source fault"/)
  })
})

describe('the root marker', () => {
  test('while the marker is missing nothing is sent or deleted; when it is back replication goes on', async (t) => {
    const marker = '.syncplane-root'
    const { sp, target } = await setUp(t, 'local', {
      config: (source) => ({ source: { path: source, marker } }),
      before: async (source) => {
        await writeFile(path.join(source, marker), '')
        await writeFile(path.join(source, 'old.jpg'), 'old')
      },
    })
    await startupMirrorDone(sp)
    assert.equal(await readFile(path.join(target.dir, 'old.jpg'), 'utf8'), 'old')

    await rm(path.join(sp.source, marker))
    const fault = await waitFor(async () => (await status(sp)).sourceFault, { timeoutMs: 2_000, message: 'the missing marker is seen within 2 s' })
    assert.equal(fault.kind, 'marker-missing')
    assert.match(fault.message, /root marker .*\.syncplane-root is missing/)
    assert.equal((await sp.app.inject({ url: '/readyz' })).statusCode, 503)
    const jobsBefore = (await sp.app.inject({ url: '/v1/jobs' })).json().jobs.length
    await writeFile(path.join(sp.source, 'new.jpg'), 'new')
    await rm(path.join(sp.source, 'old.jpg'))
    // Both changes are recorded (pending) but no run starts.
    await waitFor(async () => (await status(sp)).targets[0].pending >= 2, { message: 'the changes are recorded' })
    assert.equal((await sp.app.inject({ url: '/v1/jobs' })).json().jobs.length, jobsBefore, 'no run started')
    assert.deepEqual((await readdir(target.dir)).sort(), [marker, 'old.jpg'])
    const refused = await sp.app.inject({ method: 'POST', url: '/v1/resync', payload: { force: true } })
    assert.equal(refused.statusCode, 409, refused.body)
    assert.equal(refused.json().code, 'SOURCE_UNAVAILABLE')

    await writeFile(path.join(sp.source, marker), '')
    await waitFor(async () => (await readdir(target.dir)).sort().join() === [marker, 'new.jpg'].join(), { message: 'with the marker back, the upload and the delete go through' })
    assert.equal((await status(sp)).sourceFault, null)
  })
})

describe('the mass-delete guard', () => {
  test('a 60 % rm -rf is held until confirmed while other changes keep flowing, then applied', async (t) => {
    const { sp, target } = await setUp(t, 'daemon', {
      // The default floor (1,000) leaves a tree this small alone.
      config: () => ({ deletes: { minFiles: 10 } }),
      before: async (source) => {
        await fill(path.join(source, 'old'), 30)
        await fill(path.join(source, 'keep'), 20)
      },
    })
    await startupMirrorDone(sp)
    await rm(path.join(sp.source, 'old'), { recursive: true })
    const held = await waitFor(async () => (await status(sp)).targets[0].deletesHeld, { message: 'the deletions are held' })
    assert.equal(held.reason, 'limit')
    assert.equal(held.count, 30)
    assert.match(held.message, /would delete 30 files/)
    await waitFor(async () => (await status(sp)).targets[0].state === 'held', { message: 'the target shows as held' })
    assert.equal(await count(path.join(target.dir, 'old')), 30, 'nothing was deleted')

    await writeFile(path.join(sp.source, 'keep', 'fresh.jpg'), 'fresh')
    await waitFor(() => readFile(path.join(target.dir, 'keep', 'fresh.jpg'), 'utf8'), { message: 'other changes keep flowing' })
    assert.equal(await count(path.join(target.dir, 'old')), 30)

    const wrong = await sp.app.inject({ method: 'POST', url: '/v1/targets/web2/deletes/confirm', payload: { expected: 29 } })
    assert.equal(wrong.statusCode, 409)
    assert.equal(wrong.json().code, 'DELETES_CHANGED')
    const ok = await sp.app.inject({ method: 'POST', url: '/v1/targets/web2/deletes/confirm', payload: { expected: 30 } })
    assert.equal(ok.statusCode, 202, ok.body)
    const [job] = await sp.services.engine.waitForJobs([ok.json().job.id])
    assert.equal(job!.status, 'succeeded')
    assert.deepEqual(await readdir(target.dir).then((d) => d.sort()), ['keep'])
    assert.equal((await status(sp)).targets[0].deletesHeld, null)
    const again = await sp.app.inject({ method: 'POST', url: '/v1/targets/web2/deletes/confirm' })
    assert.equal(again.json().code, 'NO_DELETES_HELD')
  })

  test('deletions within the limit go through at once, files inside a deleted directory counted', async (t) => {
    const { sp, target } = await setUp(t, 'local', { before: (source) => fill(path.join(source, 'keep'), 40) })
    await startupMirrorDone(sp)
    await fill(path.join(sp.source, 'small'), 5)
    await waitFor(async () => (await count(path.join(target.dir, 'small'))) === 5, { message: 'the new directory arrives' })
    await rm(path.join(sp.source, 'small'), { recursive: true })
    await waitFor(async () => !(await readdir(target.dir)).includes('small'), { message: 'the deletion arrives' })
    assert.equal((await status(sp)).targets[0].deletesHeld, null)
  })

  test('a dry-run resync lists exactly what a forced resync then does, and changes nothing', async (t) => {
    const { sp, target } = await setUp(t, 'daemon', { before: (source) => fill(path.join(source, 'a'), 10) })
    await startupMirrorDone(sp)
    // Drift on the target: files the source never had, and a file the target lost.
    await fill(path.join(target.dir, 'stray'), 12)
    await writeFile(path.join(target.dir, 'a', 'stray name with space.jpg'), 'x')
    await rm(path.join(target.dir, 'a', 'upload-3.jpg'))
    const before = (await readdir(target.dir, { recursive: true })).sort()

    const res = await sp.app.inject({ method: 'POST', url: '/v1/resync', payload: { dryRun: true } })
    assert.equal(res.statusCode, 200, res.body)
    const [preview] = res.json().preview
    assert.deepEqual(res.json().jobs, [])
    assert.equal(preview.error, null)
    assert.deepEqual((await readdir(target.dir, { recursive: true })).sort(), before, 'the dry run changed nothing')
    const expectedDeletes = ['a/stray name with space.jpg', 'stray', ...Array.from({ length: 12 }, (_, i) => `stray/upload-${i}.jpg`)].sort()
    assert.deepEqual([...preview.delete.paths].sort(), expectedDeletes)
    assert.equal(preview.delete.count, expectedDeletes.length)
    assert.deepEqual(preview.send.paths, ['a/upload-3.jpg'])

    const forced = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true', payload: { force: true } })
    assert.equal(forced.statusCode, 200, forced.body)
    const after = new Set(await readdir(target.dir, { recursive: true }))
    const deleted = before.filter((p) => !after.has(p)).sort()
    const added = [...after].filter((p) => !before.includes(p))
    assert.deepEqual(deleted, expectedDeletes, 'the forced resync deleted what the preview listed')
    assert.deepEqual(added, ['a/upload-3.jpg'], 'and sent what it listed')
  })
})
