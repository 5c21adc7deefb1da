import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnService, type ServiceProcess } from '../helpers/service-process.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget, type TestTarget } from '../helpers/targets.js'
import { pathsCarried } from '../helpers/stores.js'

const BACKENDS = ['parcel', 'chokidar'] as const
const WATCH_LIMIT = 40

/** A user namespace has its own inotify watch limit, so a test can hit it without touching the machine's. */
function namespacedWatchLimitWorks (): boolean {
  const probe = spawnSync('unshare', ['-U', '-r', 'sh', '-c', `echo ${WATCH_LIMIT} > /proc/sys/user/max_inotify_watches`])
  return probe.status === 0
}
const limitSkip = namespacedWatchLimitWorks() ? undefined : 'user namespaces with their own inotify limits are not available here'
const inNamespaceWithWatchLimit = ['unshare', '-U', '-r', 'sh', '-c', `echo ${WATCH_LIMIT} > /proc/sys/user/max_inotify_watches && exec "$@"`, 'sh']

/** /readyz once the watcher reports degraded (the service answers only once it listens). */
const degradedReadiness = (svc: ServiceProcess) => waitFor(async () => {
  const res = await svc.api('/readyz').catch(() => undefined)
  return res?.body.checks?.watcher.state === 'degraded' ? res : undefined
}, { message: 'the watcher reports degraded' })

for (const backend of BACKENDS) {
  // No full mirror runs in these tests: only what the watcher reports reaches the target.
  describe(`the ${backend} watcher`, () => {
    let tmp: TempDir
    let target: TestTarget
    let sp: SyncplaneHarness
    let src: (...parts: string[]) => string
    const converged = () => waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 15_000 })
    const replicated = (rel: string) => waitFor(() => spawnSync('test', ['-e', path.join(target.dir, rel)]).status === 0, { message: `${rel} reaches the target` })

    const teardown = suiteTeardown()
    before(async () => {
      tmp = await makeTempDir(teardown)
      target = await startTarget(tmp, 'local', 'backup')
      sp = await startSyncplane(tmp, {
        targets: [target.config],
        config: { watcher: { backend }, exclude: ['*.tmp', 'cache/'], fullSync: { onStart: false, intervalSec: 0 } },
      })
      src = (...parts) => path.join(sp.source, ...parts)
    })

    test('files written later into a tree made with mkdir -p replicate', async () => {
      await mkdir(src('deep', 'a', 'b', 'c'), { recursive: true })
      await replicated('deep/a/b/c')
      await writeFile(src('deep', 'a', 'b', 'c', 'late.txt'), 'late')
      await writeFile(src('deep', 'a', 'mid.txt'), 'mid')
      await converged()
    })

    test('files written later deep inside a populated tree moved into the source replicate', async () => {
      const outside = path.join(tmp.path, 'outside')
      await mkdir(path.join(outside, 'x', 'y', 'z'), { recursive: true })
      await writeFile(path.join(outside, 'x', 'y', 'z', 'early.txt'), 'early')
      await rename(outside, src('moved'))
      await replicated('moved/x/y/z/early.txt')
      await writeFile(src('moved', 'x', 'y', 'z', 'late.txt'), 'late')
      await mkdir(src('moved', 'x', 'y', 'z', 'new'))
      await writeFile(src('moved', 'x', 'y', 'z', 'new', 'later.txt'), 'later')
      await converged()
    })

    test('a tree removed and made again is watched again', async () => {
      await mkdir(src('again', 'p', 'q'), { recursive: true })
      await replicated('again/p/q')
      await rm(src('again'), { recursive: true })
      await waitFor(() => spawnSync('test', ['-e', path.join(target.dir, 'again')]).status !== 0, { message: 'again/ is deleted on the target' })
      await mkdir(src('again', 'p', 'q'), { recursive: true })
      await replicated('again/p/q')
      await writeFile(src('again', 'p', 'q', 'back.txt'), 'back')
      await converged()
    })

    test('a burst of 2,000 files across 20 new directories replicates', async () => {
      for (let d = 0; d < 20; d++) {
        await mkdir(src('burst', `d${d}`), { recursive: true })
        await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(src('burst', `d${d}`, `f${f}`), `${d}/${f}`)))
      }
      await converged()
    })

    test('excluded paths are neither reported nor sent', async () => {
      await mkdir(src('cache'), { recursive: true })
      await writeFile(src('cache', 'big.bin'), 'excluded by cache/')
      await writeFile(src('scratch.tmp'), 'excluded by *.tmp')
      await writeFile(src('kept.txt'), 'kept')
      await replicated('kept.txt')
      // `cache` itself may be listed (a dir-only pattern needs the type, which a create event lacks); rsync excludes it.
      const listed = pathsCarried(sp.services.jobs).filter((p) => p.startsWith('cache/') || p.endsWith('.tmp'))
      assert.deepEqual(listed, [])
      assert.equal(spawnSync('test', ['-e', path.join(target.dir, 'scratch.tmp')]).status, 1)
    })
  })

  test(`the ${backend} watcher turns degraded, visibly, when the watch limit is hit at start`, { skip: limitSkip }, async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'backup')
    const source = path.join(tmp.path, 'source')
    // More directories than the limit, so either backend runs out while setting up.
    for (let d = 0; d < WATCH_LIMIT + 10; d++) {
      await mkdir(path.join(source, `dir${d}`), { recursive: true })
      for (let f = 0; f < 2; f++) await writeFile(path.join(source, `dir${d}`, `f${f}`), `${d}/${f}`)
    }
    const svc = await spawnService(tmp, {
      wrap: inNamespaceWithWatchLimit,
      config: { source, watcher: { backend }, fullSync: { onStart: false, intervalSec: 0 }, targets: [target.config] },
    })

    const ready = await degradedReadiness(svc)
    assert.equal(ready.status, 503)
    assert.match(ready.body.checks.watcher.detail, /max_user_watches/)
    assert.equal((await svc.api('/v1/status')).body.watcher.state, 'degraded')
    assert.match(svc.proc.output(), /inotify watch limit reached/)
    // The mirror ran although fullSync.onStart is false: only it can repair what the watcher cannot see.
    await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile })
    const jobs = (await svc.api('/v1/jobs?kind=full&trigger=watcher')).body.jobs
    assert.equal(jobs.length, 1)
  })

  test(`the ${backend} watcher turns degraded, visibly, when new directories exhaust the watch limit`, { skip: limitSkip }, async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'backup')
    const source = path.join(tmp.path, 'source')
    await mkdir(path.join(source, 'one'), { recursive: true })
    await writeFile(path.join(source, 'one', 'f'), 'f')
    const svc = await spawnService(tmp, {
      wrap: inNamespaceWithWatchLimit,
      config: { source, watcher: { backend }, fullSync: { onStart: false, intervalSec: 0 }, targets: [target.config] },
    })
    await svc.waitReady()

    for (let d = 0; d < WATCH_LIMIT + 10; d++) {
      await mkdir(path.join(source, `new${d}`))
      await writeFile(path.join(source, `new${d}`, 'f'), `${d}`)
    }
    const ready = await degradedReadiness(svc)
    assert.match(ready.body.checks.watcher.detail, /max_user_watches/)
    await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile })
  })
}
