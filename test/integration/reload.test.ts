import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnService, type ServiceProcess } from '../helpers/service-process.js'
import { startTarget, type TestTarget } from '../helpers/targets.js'
import { journalOf, openStores } from '../helpers/stores.js'
import { LIFECYCLE_KEY } from '../../src/sync/settings-keys.js'

/**
 * One service, reloaded step by step; each test starts from the state the
 * one before it left (the tests run in order).
 */
describe('SIGHUP reloads the configuration file', () => {
  let tmp: TempDir
  let source: string
  let a: TestTarget
  let b: TestTarget
  let svc: ServiceProcess
  let file: string
  let base: Record<string, unknown>
  /** The api block spawnService wrote: a reload must keep it (a new port would be refused). */
  let api: unknown

  const logLines = (): Array<Record<string, any>> => svc.proc.output().split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, any>]
    } catch {
      return []
    }
  })
  /** Rewrites the file the service was started with (keeping its api block) and sends SIGHUP. */
  const reloadWith = async (config: Record<string, unknown> | string): Promise<void> => {
    await writeFile(file, typeof config === 'string' ? config : JSON.stringify({ ...config, api }, null, 2))
    svc.signal('SIGHUP')
  }
  const waitForLog = (match: (line: Record<string, any>) => boolean, message: string) =>
    waitFor(() => logLines().find(match), { message })
  const targetNames = async (): Promise<string[]> => (await svc.api('/v1/status')).body.targets.map((t: { name: string }) => t.name)
  const equal = (dir: string) => waitForTreesEqual(source, dir, { ignore: isRsyncTempFile, timeoutMs: 20_000 })

  const teardown = suiteTeardown()
  before(async () => {
    tmp = await makeTempDir(teardown)
    source = path.join(tmp.path, 'source')
    await mkdir(source)
    await writeFile(path.join(source, 'before-start.txt'), 'old')
    a = await startTarget(tmp, 'local', 'a')
    b = await startTarget(tmp, 'daemon', 'b')
    base = {
      source,
      database: path.join(tmp.path, 'syncplane.db'),
      fullSync: { intervalSec: 0 },
      retry: { initialDelayMs: 100, maxDelayMs: 500 },
      targets: [a.config],
    }
    // The daemon's password is in the environment from the start, as systemd's EnvironmentFile would put it.
    svc = await spawnService(tmp, { config: base, env: b.env })
    file = path.join(tmp.path, 'service.yaml')
    api = (JSON.parse(await readFile(file, 'utf8')) as { api: unknown }).api
    await svc.waitReady()
    await equal(a.dir)
  })

  test('an added target gets its first mirror, then every new file, and the process lives on', async () => {
    await writeFile(path.join(source, 'before-reload.txt'), 'still only a')
    await equal(a.dir)
    await reloadWith({ ...base, targets: [a.config, b.config] })
    const line = await waitForLog((l) => l.msg === 'configuration reloaded', 'the reload is logged')
    assert.deepEqual(line.targets, { added: ['b'], removed: [], changed: [] })
    await equal(b.dir)
    // The tree can be complete a moment before rsync exits and the job is recorded.
    const jobs = await waitFor(async () => {
      const { body } = await svc.api('/v1/jobs?target=b&kind=full')
      return body.jobs.every((j: { status: string }) => j.status !== 'running' && j.status !== 'queued') && body.jobs
    }, { message: 'the mirror is recorded' })
    assert.deepEqual(jobs.map((j: { trigger: string; status: string }) => [j.trigger, j.status]), [['reload', 'succeeded']])

    await writeFile(path.join(source, 'after-reload.txt'), 'both')
    await equal(a.dir)
    await equal(b.dir)
    assert.ok(svc.proc.isRunning(), 'SIGHUP did not end the process')
  })

  test('a broken file is refused, naming the key, and both targets keep receiving', async () => {
    await reloadWith({ ...base, targets: [a.config, { ...b.config, url: 'ftp://example.org/x' }] })
    const refused = await waitForLog((l) => /reload refused/.test(l.msg) && /targets\[1\]\.url: unsupported URL scheme/.test(l.msg), 'the bad URL is refused')
    assert.equal(refused.level, 50)
    await reloadWith('source: [unclosed\n')
    await waitForLog((l) => /reload refused/.test(l.msg) && /not valid YAML at line \d+/.test(l.msg), 'the YAML error is refused')
    await reloadWith({ ...base, batch: { quietMs: 'soon' }, targets: [a.config, b.config] })
    await waitForLog((l) => /reload refused/.test(l.msg) && /batch\.quietMs: /.test(l.msg), 'the schema error is refused')

    assert.deepEqual(await targetNames(), ['a', 'b'])
    await writeFile(path.join(source, 'after-broken.txt'), 'both still')
    await equal(a.dir)
    await equal(b.dir)
    assert.ok(svc.proc.isRunning())
  })

  test('an exclude added on reload keeps matching files from the watcher and from the targets', async () => {
    base = { ...base, exclude: ['*.skip'] }
    await reloadWith({ ...base, targets: [a.config, b.config] })
    const line = await waitForLog((l) => l.msg === 'configuration reloaded' && l.changed.includes('exclude'), 'the exclude is applied')
    assert.deepEqual(line.changed, ['exclude'])
    await writeFile(path.join(source, 'secret.skip'), 'stays here')
    await writeFile(path.join(source, 'after-exclude.txt'), 'goes')
    await waitFor(() => existsSync(path.join(a.dir, 'after-exclude.txt')) && existsSync(path.join(b.dir, 'after-exclude.txt')), { message: 'the file after the excluded one arrives' })
    assert.ok(!existsSync(path.join(a.dir, 'secret.skip')) && !existsSync(path.join(b.dir, 'secret.skip')), 'the excluded file stays on the source')
    const { body } = await svc.api(`/v1/jobs?path=${encodeURIComponent('secret.skip')}`)
    assert.deepEqual(body.jobs, [], 'the watcher no longer reports it')
  })

  test('a new source is refused with a log line, and nothing else in that file is applied', async () => {
    const elsewhere = path.join(tmp.path, 'elsewhere')
    await mkdir(elsewhere)
    const c = await startTarget(tmp, 'local', 'c')
    await reloadWith({ ...base, source: elsewhere, targets: [a.config, b.config, c.config] })
    const refused = await waitForLog((l) => /reload refused, nothing applied: source cannot change while running/.test(l.msg), 'the new source is refused')
    assert.deepEqual(refused.restartOnly, ['source'])
    assert.deepEqual(await targetNames(), ['a', 'b'])
    await writeFile(path.join(source, 'after-source.txt'), 'from the old source')
    await waitFor(() => existsSync(path.join(a.dir, 'after-source.txt')), { message: 'the old source still replicates' })
    assert.deepEqual(await readdir(c.dir), [], 'the target in the refused file got nothing')
  })

  test('a target given a new destination gets a mirror there, then the new files', async () => {
    const moved = path.join(tmp.path, 'a-moved')
    await mkdir(moved)
    await reloadWith({ ...base, targets: [{ ...a.config, url: `${moved}/` }, b.config] })
    const line = await waitForLog((l) => l.msg === 'configuration reloaded' && l.targets.changed.includes('a'), 'the change is applied')
    assert.deepEqual(line.mirrorOwed, ['a'])
    await waitFor(async () => (await svc.api('/v1/jobs?target=a&kind=full&trigger=reload&status=succeeded')).body.jobs.length === 1, { message: 'the mirror to the new destination' })
    assert.ok(existsSync(path.join(moved, 'before-start.txt')) && existsSync(path.join(moved, 'after-source.txt')))
    await writeFile(path.join(source, 'after-move.txt'), 'to the new place')
    await waitFor(() => existsSync(path.join(moved, 'after-move.txt')), { message: 'new files go to the new destination' })
    assert.ok(!existsSync(path.join(a.dir, 'after-move.txt')))
    a = { ...a, config: { ...a.config, url: `${moved}/` }, dir: moved }
  })

  test('a target removed on reload is sent nothing more', async () => {
    await reloadWith({ ...base, targets: [a.config] })
    await waitFor(async () => (await targetNames()).join() === 'a', { message: 'b is gone' })
    await waitForLog((l) => l.target === 'b' && /target removed from the configuration/.test(l.msg), 'the removal is logged')
    await writeFile(path.join(source, 'after-removal.txt'), 'only a')
    await waitFor(() => existsSync(path.join(a.dir, 'after-removal.txt')), { message: 'a still receives' })
    // b would have had a run of its own for it, started with a's.
    const { body } = await svc.api(`/v1/jobs?target=b&path=${encodeURIComponent('after-removal.txt')}`)
    assert.deepEqual(body.jobs, [])
    assert.ok(!existsSync(path.join(b.dir, 'after-removal.txt')))
  })

  test('after all these reloads SIGTERM still stops cleanly', async () => {
    assert.ok(svc.proc.isRunning())
    svc.signal('SIGTERM')
    const exit = await svc.exited
    assert.equal(exit.code, 0, svc.proc.output().slice(-2000))
    const left = openStores(tmp, path.join(tmp.path, 'syncplane.db'))
    assert.equal(left.settings.get(LIFECYCLE_KEY), 'stopped')
    assert.deepEqual(journalOf(left.db, 'b'), [], 'the removed target left nothing journaled')
  })
})
