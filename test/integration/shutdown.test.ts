import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import Database from 'better-sqlite3'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnService } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} stops the watch, stops an rsync that outlives the drain, keeps its paths, and exits 0`, async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'backup')
    const source = path.join(tmp.path, 'source')
    await mkdir(source)
    const base = { source, database: path.join(tmp.path, 'syncplane.db'), fullSync: { onStart: false, intervalSec: 0 }, targets: [target.config] }
    // 200 KiB/s: the 8 MiB file takes about 40 s, far past the 1 s drain.
    const svc = await spawnService(tmp, { config: { ...base, shutdown: { drainSec: 1 }, rsync: { killGraceSec: 1, extraArgs: ['--bwlimit=200'] } } })
    await svc.waitReady()
    await writeFile(path.join(source, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7))
    await waitFor(async () => (await svc.api('/v1/status')).body.targets[0].state === 'syncing', { message: 'the slow rsync runs' })

    const stopping = performance.now()
    svc.signal(signal)
    const exit = await svc.exited
    const stopMs = performance.now() - stopping
    assert.equal(exit.code, 0, svc.proc.output().slice(-2000))
    assert.ok(stopMs < 10_000, `stopped in ${Math.round(stopMs)} ms`)

    const db = new Database(base.database, { readonly: true })
    const job = db.prepare("SELECT status, error FROM jobs WHERE kind = 'incremental' ORDER BY id DESC").get() as { status: string; error: string }
    const pending = db.prepare("SELECT path FROM pending WHERE target = 'backup'").all() as Array<{ path: string }>
    const lifecycle = db.prepare("SELECT value FROM settings WHERE key = 'engine.lifecycle'").get() as { value: string }
    db.close()
    assert.equal(job.status, 'interrupted')
    assert.deepEqual(pending.map((r) => r.path), ['big.bin'], 'the interrupted path stays journaled')
    assert.equal(lifecycle.value, 'stopped', 'a clean stop: no recovery mirror needed')

    const again = await spawnService(tmp, { config: base, name: 'again' })
    await again.waitReady()
    await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 20_000 })
  })
}
