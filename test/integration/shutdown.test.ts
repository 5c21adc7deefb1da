import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnService } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'
import { jobsOf, journalOf, openStores } from '../helpers/stores.js'
import { LIFECYCLE_KEY } from '../../src/sync/settings-keys.js'

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} stops the watch, stops an rsync that outlives the drain, keeps its paths, and exits 0`, async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'backup')
    const base = { fullSync: { onStart: false, intervalSec: 0 }, targets: [target.config] }
    // 200 KiB/s: the 8 MiB file takes about 40 s, far past the 1 s drain.
    const svc = await spawnService(tmp, { config: { ...base, shutdown: { drainSec: 1 }, rsync: { killGraceSec: 1, extraArgs: ['--bwlimit=200'] } } })
    const { source } = svc
    await svc.waitReady()
    await writeFile(path.join(source, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7))
    await waitFor(async () => (await svc.api('/v1/status')).body.targets[0].state === 'syncing', { message: 'the slow rsync runs' })

    const stopping = performance.now()
    svc.signal(signal)
    const exit = await svc.exited
    const stopMs = performance.now() - stopping
    assert.equal(exit.code, 0, svc.proc.output().slice(-2000))
    assert.ok(stopMs < 10_000, `stopped in ${Math.round(stopMs)} ms`)

    const left = openStores(tmp, svc.database)
    assert.equal(jobsOf(left.jobs, { kind: 'incremental' }).at(-1)?.status, 'interrupted')
    assert.deepEqual(journalOf(left.db, 'backup').map((r) => r.path), ['big.bin'], 'the interrupted path stays journaled')
    assert.equal(left.settings.get(LIFECYCLE_KEY), 'stopped', 'a clean stop: no recovery mirror needed')

    const again = await spawnService(tmp, { config: base, name: 'again' })
    await again.waitReady()
    await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 20_000 })
  })
}
