import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { runCommand } from '../helpers/run-command.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { journalOf } from '../helpers/stores.js'

const FILES = 6_000
const DIRS = 30

const notRoot = process.getuid?.() !== 0 ? 'mounting a small tmpfs needs root' : undefined

async function mount (...args: string[]): Promise<void> {
  const res = await runCommand('mount', args)
  if (res.code !== 0) throw new Error(`mount ${args.join(' ')}: ${res.stderr}`)
}

test(`a database on a full disk does not stop replication of ${FILES} files, and everything converges once there is room`, { skip: notRoot, timeout: 240_000 }, async (t) => {
  const tmp = await makeTempDir(t)
  const dbDir = path.join(tmp.path, 'db')
  await mkdir(dbDir)
  await mount('-t', 'tmpfs', '-o', 'size=700k', 'tmpfs', dbDir)
  tmp.after(() => runCommand('umount', [dbDir]))
  const local = await startTarget(tmp, 'local')
  const daemon = await startTarget(tmp, 'daemon')
  const options = {
    targets: [local.config, daemon.config],
    env: daemon.env,
    config: { database: path.join(dbDir, 'syncplane.db'), fullSync: { onStart: false } },
  }
  const source = path.join(tmp.path, 'source')
  for (let d = 0; d < DIRS; d++) await mkdir(path.join(source, `dir${d}`), { recursive: true })
  const first = await startSyncplane(tmp, options)
  const get = async (url: string) => {
    const res = await first.app.inject({ url })
    return { status: res.statusCode, body: res.json() }
  }
  assert.equal((await get('/readyz')).status, 200)

  // Held back at first, so the journal fills the disk before anything is delivered.
  await first.app.inject({ method: 'POST', url: '/v1/watch/pause' })
  for (let i = 0; i < FILES; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, FILES - i) }, (_, k) =>
      writeFile(path.join(source, `dir${(i + k) % DIRS}`, `file-${i + k}.txt`), `${i + k}\n`)))
  }
  const failing = await waitFor(async () => {
    const ready = await get('/readyz')
    const { body } = await get('/v1/status')
    return ready.status === 503 && body.database.state === 'failing' ? { ready: ready.body, status: body } : undefined
  }, { message: 'the database fails, and the service says so', timeoutMs: 60_000 })
  assert.match(failing.status.database.error, /^database or disk is full \(SQLITE_FULL\) writing the /)
  assert.ok(!Number.isNaN(Date.parse(failing.status.database.since)))
  assert.equal(failing.ready.checks.database.ok, false)
  assert.match(failing.ready.checks.database.detail, /SQLITE_FULL/)
  await waitFor(async () => (await get('/v1/status')).body.targets.every((x: { pending: number }) => x.pending === FILES), { message: 'every change is kept in memory', timeoutMs: 60_000 })
  assert.equal((await readdir(local.dir)).length, 0)

  // Replication goes on from memory while the database stays full.
  await first.app.inject({ method: 'POST', url: '/v1/watch/resume' })
  await waitForTreesEqual(source, local.dir, { ignore: isRsyncTempFile, timeoutMs: 120_000, intervalMs: 250 })
  await waitForTreesEqual(source, daemon.dir, { ignore: isRsyncTempFile, timeoutMs: 120_000, intervalMs: 250 })
  await waitFor(async () => (await get('/v1/status')).body.targets.every((x: { pending: number; inFlight: number; runningJobId: number | null }) => x.pending === 0 && x.inFlight === 0 && x.runningJobId === null), { message: 'every target idle' })
  // The job history answers from memory what the database did not take.
  const during = (await get('/v1/jobs?limit=100')).body.jobs as Array<{ id: number; target: string; status: string; kind: string }>
  for (const name of ['local', 'daemon']) assert.ok(during.some((j) => j.target === name && j.kind === 'incremental' && j.status === 'succeeded'), `a succeeded run of ${name} is listed`)
  assert.equal((await get(`/v1/jobs/${during[0]!.id}`)).status, 200)

  await mount('-o', 'remount,size=64m', dbDir)
  await waitFor(async () => (await get('/readyz')).status === 200 && (await get('/v1/status')).body.database.state === 'ok', { message: 'healthy again once there is room', timeoutMs: 30_000 })
  assert.deepEqual((await get('/v1/status')).body.database, { state: 'ok', error: null, since: null })
  assert.deepEqual(journalOf(first.services.db), [], 'delivered paths leave the journal')
  const after = (await get('/v1/jobs?limit=100')).body.jobs as Array<{ id: number; status: string }>
  for (const j of during) assert.equal(after.find((a) => a.id === j.id)?.status, j.status, `job ${j.id} reached the history as it was reported`)

  const lines = first.logs.map((l) => JSON.parse(l) as { msg: string })
  const failed = lines.filter((l) => l.msg.startsWith('database failing')).length
  const recovered = lines.filter((l) => l.msg.startsWith('database recovered')).length
  t.diagnostic(`database failing logged ${failed} time(s), recovered ${recovered} time(s)`)
  assert.ok(failed >= 1 && failed <= 3, `a failure is logged once per episode, not once per write (${failed})`)
  assert.equal(recovered, failed)

  // A restart after recovery owes nothing that was delivered.
  await first.close()
  const second = await startSyncplane(tmp, options)
  const status = (await second.app.inject({ url: '/v1/status' })).json()
  for (const x of status.targets) {
    assert.equal(x.pending, 0, `${x.name} owes no path`)
    assert.equal(x.fullSyncPending, false, `${x.name} owes no mirror`)
  }
  assert.ok(!second.logs.some((l) => l.includes('did not shut down cleanly')))
  const persisted = (await second.app.inject({ url: '/v1/jobs?limit=100' })).json().jobs as Array<{ id: number; status: string }>
  for (const j of during) assert.equal(persisted.find((p) => p.id === j.id)?.status, j.status)
})
