import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnService } from '../helpers/service-process.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'

const WATCH_LIMIT = 40

/** A user namespace has its own inotify watch limit, so the test can hit it without touching the machine's. */
function namespacedWatchLimitWorks (): boolean {
  const probe = spawnSync('unshare', ['-U', '-r', 'sh', '-c', `echo ${WATCH_LIMIT} > /proc/sys/user/max_inotify_watches`])
  return probe.status === 0
}

test('hitting the inotify watch limit degrades the watcher visibly and mirrors every target', {
  skip: namespacedWatchLimitWorks() ? undefined : 'user namespaces with their own inotify limits are not available here',
}, async (t) => {
  const tmp = await makeTempDir()
  const target = await startTarget('local', tmp.path, 'backup')
  t.after(() => tmp.cleanup())
  const source = path.join(tmp.path, 'source')
  for (let d = 0; d < 10; d++) {
    await mkdir(path.join(source, `dir${d}`), { recursive: true })
    for (let f = 0; f < 10; f++) await writeFile(path.join(source, `dir${d}`, `f${f}`), `${d}/${f}`)
  }
  const svc = await spawnService({
    root: tmp.path,
    wrap: ['unshare', '-U', '-r', 'sh', '-c', `echo ${WATCH_LIMIT} > /proc/sys/user/max_inotify_watches && exec "$@"`, 'sh'],
    config: { source, database: path.join(tmp.path, 'syncplane.db'), fullSync: { onStart: false, intervalSec: 0 }, targets: [target.config] },
  })
  t.after(() => svc.proc.stop())

  const ready = await waitFor(async () => {
    const res = await svc.api('/readyz').catch(() => undefined)
    return res?.body.checks?.watcher.state === 'degraded' ? res : undefined
  }, { message: 'the watcher reports degraded' })
  assert.equal(ready.status, 503)
  assert.match(ready.body.checks.watcher.detail, /max_user_watches/)
  const status = (await svc.api('/v1/status')).body
  assert.equal(status.watcher.state, 'degraded')
  assert.match(svc.proc.output(), /inotify watch limit reached/)
  // The mirror ran although fullSync.onStart is false: only it can repair what the watcher cannot see.
  await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile })
  const jobs = (await svc.api('/v1/jobs?kind=full&trigger=watcher')).body.jobs
  assert.equal(jobs.length, 1)
})

test('the periodic mirror repairs drift made on the target behind our back', async (t) => {
  const tmp = await makeTempDir()
  const target = await startTarget('daemon', tmp.path, 'web2')
  const sp = await startSyncplane({ root: tmp.path, targets: [target.config], env: target.env, config: { fullSync: { intervalSec: 1 } } })
  t.after(async () => {
    await sp.close()
    await target.stop()
    await tmp.cleanup()
  })
  await writeFile(path.join(sp.source, 'truth.txt'), 'the source says so')
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile })
  await writeFile(path.join(target.dir, 'truth.txt'), 'someone edited the replica')
  await writeFile(path.join(target.dir, 'stray.txt'), 'and left this')
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile })
  await waitFor(() => sp.services.db.prepare("SELECT 1 FROM jobs WHERE trigger = 'periodic' AND status = 'succeeded'").get(), { message: 'a periodic mirror succeeded' })
})

test('a populated tree created faster than the watch can follow is replicated whole', async (t) => {
  const tmp = await makeTempDir()
  const target = await startTarget('local', tmp.path, 'backup')
  const sp = await startSyncplane({ root: tmp.path, targets: [target.config], config: { fullSync: { intervalSec: 0 } } })
  t.after(async () => {
    await sp.close()
    await tmp.cleanup()
  })
  // mkdir -p and the files follow at once, before the new directories are watched.
  const deep = path.join(sp.source, 'n1', 'n2', 'n3', 'n4')
  await mkdir(deep, { recursive: true })
  await Promise.all(Array.from({ length: 50 }, (_, i) => writeFile(path.join(deep, `f${i}`), `${i}`)))
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile })
})
