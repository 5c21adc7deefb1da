import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { runCommand } from '../helpers/run-command.js'
import { spawnService } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'
import { waitFor } from '../helpers/wait-for.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/**
 * Per-target control through the built service, its HTTP API and the CLI:
 * one target paused while the other goes on, the paths it lacks, a slow run
 * (the target's own bwlimit) cancelled, and a reload lifting the limit.
 */
test('one target paused, its pending paths listed, its slow run cancelled and its bwlimit lifted by a reload; nothing lost', async (t) => {
  const tmp = await makeTempDir(t)
  const fast = await startTarget(tmp, 'local', 'fast')
  const slow = await startTarget(tmp, 'daemon', 'slow')
  const slowLimited = { ...slow.config, rsync: { bwlimit: '64' } }
  const config = {
    fullSync: { onStart: false, intervalSec: 0 },
    retry: { initialDelayMs: 100, maxDelayMs: 1_000 },
    targets: [fast.config, slowLimited],
  }
  const svc = await spawnService(tmp, { config, env: slow.env })
  await svc.waitReady()
  const cli = (args: string[]) => runCommand(process.execPath, [CLI, ...args], { env: { ...process.env, SYNCPLANE_URL: svc.url } })
  const stateOf = async (name: string) => (await svc.api('/v1/status')).body.targets.find((x: { name: string }) => x.name === name)

  // Paused: the other target gets the files, the paused one lists them as pending.
  const paused = await cli(['pause', 'slow'])
  assert.equal(paused.code, 0, paused.stderr)
  assert.equal(paused.stdout, 'slow paused\n')
  for (const name of ['b.txt', 'a.txt', 'c d.txt']) await writeFile(path.join(svc.source, name), name)
  await waitFor(async () => (await readFile(path.join(fast.dir, 'c d.txt'), 'utf8').catch(() => '')) === 'c d.txt', { message: 'the other target gets the files' })
  await waitFor(async () => (await svc.api('/v1/targets/slow/pending?limit=2')).body.total === 3, { message: 'the paused target lists what it lacks' })
  const page = (await svc.api('/v1/targets/slow/pending?limit=2')).body
  assert.deepEqual(page.items.map((i: { path: string }) => i.path), ['a.txt', 'b.txt'])
  assert.equal(page.next, 'b.txt')
  assert.deepEqual((await svc.api('/v1/targets/slow/pending?after=b.txt')).body.items.map((i: { path: string }) => i.path), ['c d.txt'])
  assert.equal((await stateOf('slow')).state, 'paused')
  const listed = await cli(['pending', 'slow'])
  assert.match(listed.stdout, /"a\.txt"\n.*"b\.txt"\n.*"c d\.txt"\n/s)
  assert.equal((await svc.api('/v1/targets/nope/pending')).status, 404)
  assert.equal((await svc.api('/v1/targets/slow/pending?limit=0')).status, 400)

  // Resumed, with a large file at 64 KiB/s: its run is slow; cancelled, it ends interrupted and the path stays owed.
  await writeFile(path.join(svc.source, 'big.bin'), randomBytes(4 * 1024 * 1024))
  assert.equal((await cli(['resume', 'slow'])).stdout, 'slow resumed\n')
  const jobId = await waitFor(async () => {
    const s = await stateOf('slow')
    return s.runningJobId !== null && s.inFlight > 0 && (await svc.api(`/v1/jobs/${s.runningJobId}`)).body.paths.includes('big.bin') ? s.runningJobId as number : false
  }, { message: 'the run carrying big.bin starts' })
  const cancelled = await cli(['cancel', String(jobId)])
  assert.equal(cancelled.code, 0, cancelled.stderr)
  await waitFor(async () => (await svc.api(`/v1/jobs/${jobId}`)).body.job.status === 'interrupted', { message: 'the job ends interrupted' })
  const job = (await svc.api(`/v1/jobs/${jobId}`)).body.job
  assert.equal(job.error, 'cancelled by an operator')
  assert.equal((await svc.api(`/v1/jobs/${jobId}/cancel`, { method: 'POST' })).status, 409, 'an ended job cannot be cancelled')
  const after = await stateOf('slow')
  assert.equal(after.consecutiveFailures, 0, 'a cancel is no failure')
  assert.ok(after.pending + after.inFlight > 0, 'its paths stay pending')

  // A reload lifts the target's own limit: the next run carries everything.
  await writeFile(path.join(tmp.path, 'service.yaml'), JSON.stringify({ ...config, source: svc.source, database: svc.database, targets: [fast.config, slow.config], api: { host: '127.0.0.1', port: Number(new URL(svc.url).port) } }))
  svc.signal('SIGHUP')
  await waitFor(async () => (await stat(path.join(slow.dir, 'big.bin')).catch(() => null))?.size === 4 * 1024 * 1024, { message: 'big.bin reaches the target once the limit is lifted', timeoutMs: 30_000 })
  for (const name of ['a.txt', 'b.txt', 'c d.txt']) assert.equal(await readFile(path.join(slow.dir, name), 'utf8'), name)
})
