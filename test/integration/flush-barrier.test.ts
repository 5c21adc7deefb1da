import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { spawnService } from '../helpers/service-process.js'
import { startSyncplane, startSyncplaneTo, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget, type TestTarget } from '../helpers/targets.js'
import { waitFor } from '../helpers/wait-for.js'
import { journalOf, pathsCarried } from '../helpers/stores.js'
import { checkMirrorSafety } from '../../src/sync/mirror-guard.js'
import { localTarget } from '../helpers/engine-harness.js'
import type { RsyncRunner } from '../../src/rsync/runner.js'

const SENTINEL = '.syncplane-flush-'

/** Every entry below `dir`, relative and `/`-separated. */
async function listTree (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true })
  return entries.map((e) => e.split(path.sep).join('/'))
}

const sentinelsIn = async (dir: string): Promise<string[]> => (await listTree(dir)).filter((p) => path.basename(p).startsWith(SENTINEL))

const contentOf = (file: string): Promise<string> => readFile(file, 'utf8').catch(() => 'missing')

// A long quiet window and no mirrors: only the flush's barrier can get a change out in time.
// `.*` excluded: the user's excludes must not hide the sentinel from the barrier.
const SLOW_BATCHES = { exclude: ['.*'], batch: { quietMs: 2_000, maxDelayMs: 5_000 }, fullSync: { onStart: false, intervalSec: 0 } }

for (const backend of ['parcel', 'chokidar'] as const) {
  describe(`POST /v1/flush without paths, ${backend} watcher`, () => {
    let tmp: TempDir
    let daemon: TestTarget
    let local: TestTarget
    let sp: SyncplaneHarness
    const flush = (payload: Record<string, unknown> = {}) => sp.app.inject({ method: 'POST', url: '/v1/flush', payload })
    const onBoth = async (rel: string, content: string, what: string): Promise<void> => {
      assert.equal(await contentOf(path.join(daemon.dir, rel)), content, `${what}: web2`)
      assert.equal(await contentOf(path.join(local.dir, rel)), content, `${what}: backup`)
    }

    const teardown = suiteTeardown()
    before(async () => {
      tmp = await makeTempDir(teardown)
      daemon = await startTarget(tmp, 'daemon', 'web2')
      local = await startTarget(tmp, 'local', 'backup')
      sp = await startSyncplane(tmp, { targets: [daemon.config, local.config], env: daemon.env, config: { watcher: { backend }, ...SLOW_BATCHES } })
    })

    test('a file written just before is on every target when it answers 200, 20 times in a row, though `.*` is excluded', async () => {
      for (let i = 0; i < 20; i++) {
        const name = `written-${i}.txt`
        await writeFile(path.join(sp.source, name), `content ${i}`)
        const res = await flush()
        assert.equal(res.statusCode, 200, res.body)
        await onBoth(name, `content ${i}`, `round ${i}`)
      }
    })

    test('a file rewritten in place with as many bytes is on every target when it answers 200, 20 times in a row', async () => {
      await mkdir(path.join(sp.source, 'docs', 'current'), { recursive: true })
      const file = path.join('docs', 'current', 'report.txt')
      for (let i = 0; i < 20; i++) {
        const content = `revision ${String(i).padStart(2, '0')}`
        await writeFile(path.join(sp.source, file), content)
        const res = await flush()
        assert.equal(res.statusCode, 200, res.body)
        await onBoth(file, content, `round ${i}`)
      }
    })

    test('a file written deep in a tree made at once is on every target when it answers 200', async () => {
      await mkdir(path.join(sp.source, 'tree', 'a', 'b', 'c'), { recursive: true })
      await flush()
      for (let i = 0; i < 5; i++) {
        const file = path.join('tree', 'a', 'b', 'c', `deep-${i}.txt`)
        await writeFile(path.join(sp.source, file), `deep ${i}`)
        const res = await flush()
        assert.equal(res.statusCode, 200, res.body)
        await onBoth(file, `deep ${i}`, `round ${i}`)
      }
    })

    test('concurrent flushes each pass their own barrier', async () => {
      const names = Array.from({ length: 8 }, (_, i) => `parallel-${i}.txt`)
      const answers = await Promise.all(names.map(async (n) => {
        await writeFile(path.join(sp.source, n), n)
        return flush()
      }))
      assert.deepEqual(answers.map((a) => a.statusCode), names.map(() => 200))
      for (const n of names) await onBoth(n, n, n)
    })

    test('a flush whose timeout passes during the barrier answers 504 and leaves no sentinel behind', async () => {
      const res = await flush({ timeout: 0.001 })
      assert.equal(res.statusCode, 504, res.body)
      await waitFor(async () => (await sentinelsIn(sp.source)).length === 0, { message: 'the sentinel is removed' })
    })

    test('the sentinel never reaches a target, a job or the journal, and is gone from the source once it answers', async () => {
      await writeFile(path.join(sp.source, 'last.txt'), 'last')
      assert.equal((await flush()).statusCode, 200)
      assert.deepEqual(await sentinelsIn(sp.source), [])
      // A mirror runs with --delete over what the flushes left.
      const resync = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true', payload: {} })
      assert.equal(resync.statusCode, 200, resync.body)
      assert.deepEqual(await sentinelsIn(daemon.dir), [])
      assert.deepEqual(await sentinelsIn(local.dir), [])
      const paths = [...pathsCarried(sp.services.jobs), ...journalOf(sp.services.db).map((r) => r.path)]
      assert.ok(paths.length > 0)
      assert.deepEqual(paths.filter((p) => p.includes(SENTINEL)), [])
    })
  })
}

test('with chokidar polling, a flush waits for its sentinel and two poll intervals (best effort)', async (t) => {
  const { target: local, sp } = await startSyncplaneTo(t, 'local', { name: 'backup', config: { watcher: { backend: 'chokidar', usePolling: true, pollIntervalMs: 100 }, ...SLOW_BATCHES } })
  for (let i = 0; i < 5; i++) {
    await writeFile(path.join(sp.source, `polled-${i}.txt`), `polled ${i}`)
    const res = await sp.app.inject({ method: 'POST', url: '/v1/flush', payload: {} })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(await contentOf(path.join(local.dir, `polled-${i}.txt`)), `polled ${i}`, `round ${i}`)
  }
  assert.deepEqual(await sentinelsIn(local.dir), [])
})

describe('the built service (parcel on its own thread)', () => {
  test('a file written just before is on every target when POST /v1/flush answers 200, 20 times in a row', async (t) => {
    const tmp = await makeTempDir(t)
    const daemon = await startTarget(tmp, 'daemon', 'web2')
    const local = await startTarget(tmp, 'local', 'backup')
    const svc = await spawnService(tmp, { config: { targets: [daemon.config, local.config], ...SLOW_BATCHES }, env: daemon.env })
    const { source } = svc
    await svc.waitReady()
    for (let i = 0; i < 20; i++) {
      const name = `written-${i}.txt`
      await writeFile(path.join(source, name), `content ${i}`)
      const res = await svc.api('/v1/flush', { method: 'POST', body: {} })
      assert.equal(res.status, 200, JSON.stringify(res.body))
      assert.equal(await contentOf(path.join(daemon.dir, name)), `content ${i}`, `round ${i}: web2`)
      assert.equal(await contentOf(path.join(local.dir, name)), `content ${i}`, `round ${i}: backup`)
    }
    assert.deepEqual(await sentinelsIn(source), [])
    assert.deepEqual(await sentinelsIn(daemon.dir), [])
  })

  test('on a read-only source a flush falls back to a fixed wait, and says so in the log', async (t) => {
    const tmp = await makeTempDir(t)
    const local = await startTarget(tmp, 'local', 'backup')
    const source = path.join(tmp.path, 'source')
    // The service sees the source through a read-only bind mount of its own; the test writes through the real one.
    const readOnly = ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"', source]
    const svc = await spawnService(tmp, { config: { source, targets: [local.config], ...SLOW_BATCHES }, wrap: readOnly })
    await svc.waitReady()
    await writeFile(path.join(source, 'upload.txt'), 'upload')
    const started = performance.now()
    const res = await svc.api('/v1/flush', { method: 'POST', body: {} })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.ok(performance.now() - started >= 900, 'the flush waited the fixed time')
    assert.equal(await contentOf(path.join(local.dir, 'upload.txt')), 'upload')
    assert.match(svc.proc.output(), /cannot write a flush sentinel/)
  })
})

test('a source holding only a flush sentinel still looks empty to the mirror guard', async (t) => {
  const tmp = await makeTempDir(t)
  const source = path.join(tmp.path, 'source')
  const replica = path.join(tmp.path, 'replica')
  await mkdir(source)
  await mkdir(replica)
  await writeFile(path.join(replica, 'precious.jpg'), 'keep me')
  // What a flush leaves for a moment in the empty mount point of an unmounted volume.
  await writeFile(path.join(source, `${SENTINEL}0123456789abcdef`), '')
  const url = `${replica}/`
  const refusal = await checkMirrorSafety({
    source,
    target: localTarget('backup', url),
    common: { source, excludes: [], ioTimeoutSec: 10, connectTimeoutSec: 10, extraArgs: [] },
    runner: { run: () => { throw new Error('a local target is listed without rsync') } } as unknown as RsyncRunner,
    force: false,
    signal: new AbortController().signal,
  })
  assert.match(refusal?.reason ?? 'no refusal', /is empty but the target still holds files/)
})
