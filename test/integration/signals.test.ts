import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnService, type ServiceProcess } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'
import { descendantPids, pidExists } from '../helpers/managed-process.js'
import { openStores } from '../helpers/stores.js'
import { LIFECYCLE_KEY } from '../../src/sync/settings-keys.js'

const jsonLines = (svc: ServiceProcess): Array<Record<string, any>> =>
  svc.proc.output().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, any>)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`a second ${signal} during a long drain exits at once, non-zero, and stops the rsync the drain waited for`, async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'backup')
    // 200 KiB/s: the 8 MiB file takes about 40 s, and the drain would wait up to a minute for it.
    const svc = await spawnService(tmp, {
      config: { fullSync: { onStart: false, intervalSec: 0 }, shutdown: { drainSec: 60 }, rsync: { extraArgs: ['--bwlimit=200'] }, targets: [target.config] },
    })
    await svc.waitReady()
    await writeFile(path.join(svc.source, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7))
    await waitFor(async () => (await svc.api('/v1/status')).body.targets[0].state === 'syncing', { message: 'the slow rsync runs' })
    const rsyncs = descendantPids(svc.proc.pid)
    assert.ok(rsyncs.length > 0)
    tmp.after(() => { for (const pid of rsyncs) if (pidExists(pid)) process.kill(pid, 'SIGKILL') })

    svc.signal(signal)
    await waitFor(() => jsonLines(svc).some((l) => l.msg === 'shutting down'), { message: 'the drain begins' })
    const second = performance.now()
    svc.signal(signal)
    const exit = await svc.exited
    const exitMs = performance.now() - second
    assert.equal(exit.signal, null, `not killed by the signal (Node's default handler): ${svc.proc.output().slice(-3000)}`)
    assert.equal(exit.code, 1, svc.proc.output().slice(-2000))
    assert.ok(exitMs < 5_000, `exited ${Math.round(exitMs)} ms after the second signal`)
    assert.ok(jsonLines(svc).some((l) => l.level === 40 && /second signal during shutdown/.test(l.msg)))
    await waitFor(() => rsyncs.every((pid) => !pidExists(pid)), { message: 'the rsync is stopped too', timeoutMs: 10_000 })
  })
}

for (const fault of ['exception', 'rejection'] as const) {
  test(`an uncaught ${fault} is one JSON line and a non-zero exit, and the database still says the engine was running`, async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'local', 'backup')
    // A module loaded into the built service, as any dependency is, that fails on SIGUSR2: no seam in the service itself.
    const faultModule = path.join(tmp.path, 'fault.mjs')
    await writeFile(faultModule, fault === 'exception'
      ? "process.on('SIGUSR2', () => { throw new TypeError('injected fault') })\n"
      : "process.on('SIGUSR2', () => { Promise.reject(new RangeError('injected fault')) })\n")
    const svc = await spawnService(tmp, {
      config: { fullSync: { intervalSec: 0 }, targets: [target.config] },
      env: { NODE_OPTIONS: `--import=${pathToFileURL(faultModule).href}` },
    })
    await svc.waitReady()

    svc.signal('SIGUSR2')
    const exit = await svc.exited
    assert.equal(exit.code, 1, svc.proc.output().slice(-2000))
    // Every line of output is JSON: no bare stack trace anywhere.
    const lines = jsonLines(svc)
    const crash = lines.filter((l) => l.level === 60)
    assert.equal(crash.length, 1, svc.proc.output().slice(-2000))
    assert.equal(crash[0]!.origin, fault === 'exception' ? 'uncaughtException' : 'unhandledRejection')
    assert.equal(crash[0]!.err.type, fault === 'exception' ? 'TypeError' : 'RangeError')
    assert.equal(crash[0]!.err.message, 'injected fault')
    assert.match(crash[0]!.err.stack, /injected fault\n\s+at /)

    assert.equal(openStores(tmp, svc.database).settings.get(LIFECYCLE_KEY), 'running', 'a crash, not a clean stop: the next start mirrors every target')
  })
}
