import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import type { Teardown } from '../helpers/teardown.js'
import { openDatabase } from '../../src/db/open.js'
import { readdirSync } from 'node:fs'
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js'
import { createJobStore } from '../../src/db/job-store.js'
import { createPendingStore } from '../../src/db/pending-store.js'

async function freshDb (t: Teardown) {
  const tmp = await makeTempDir(t)
  const file = path.join(tmp.path, 'sub', 'dir', 'syncplane.db')
  const db = openDatabase(file)
  tmp.after(() => db.close())
  return { db, file }
}

test('migrations apply once, in WAL mode, and record the schema version', async (t) => {
  const { db } = await freshDb(t)
  const latest = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}-.*\.sql$/.test(f)).length
  assert.deepEqual(migrate(db), { from: 0, to: latest })
  assert.deepEqual(migrate(db), { from: latest, to: latest })
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  assert.equal(db.pragma('synchronous', { simple: true }), 1)
  db.pragma('user_version = 99')
  assert.throws(() => migrate(db), /newer than this syncplane knows/)
})

test('jobs left queued or running by a crash become interrupted', async (t) => {
  const { db } = await freshDb(t)
  migrate(db)
  const jobs = createJobStore(db, { pathsPerJob: 10 })
  const running = jobs.create({ target: 'a', kind: 'incremental', trigger: 'watch', status: 'running', attempt: 1, paths: ['x'], now: 1000 })
  const queued = jobs.create({ target: 'a', kind: 'full', trigger: 'api', status: 'queued', attempt: 1, paths: [], now: 1000 })
  const done = jobs.create({ target: 'a', kind: 'full', trigger: 'api', status: 'running', attempt: 1, paths: [], now: 1000 })
  jobs.finish(done.id, { status: 'succeeded', exitCode: 0, error: null, warning: null, filesTransferred: 1, bytesTransferred: 2, now: 1500 })
  assert.equal(jobs.interruptUnfinished(2000), 2)
  assert.equal(jobs.get(running.id)!.status, 'interrupted')
  assert.equal(jobs.get(running.id)!.durationMs, 1000)
  assert.equal(jobs.get(queued.id)!.status, 'interrupted')
  assert.equal(jobs.get(done.id)!.status, 'succeeded')
})

test('a job keeps at most pathsPerJob paths and says when it dropped some', async (t) => {
  const { db } = await freshDb(t)
  migrate(db)
  const jobs = createJobStore(db, { pathsPerJob: 3 })
  const job = jobs.create({ target: 'a', kind: 'incremental', trigger: 'watch', status: 'running', attempt: 1, paths: ['a', 'b', 'c', 'd', 'e'], now: 1 })
  assert.equal(job.pathsCount, 5)
  assert.equal(job.pathsTruncated, true)
  assert.deepEqual(jobs.paths(job.id, 100), ['a', 'b', 'c'])
})

test('listing is newest first, filtered, and pages by keyset', async (t) => {
  const { db } = await freshDb(t)
  migrate(db)
  const jobs = createJobStore(db, { pathsPerJob: 0 })
  for (let i = 0; i < 10; i++) {
    jobs.create({ target: i % 2 ? 'odd' : 'even', kind: 'incremental', trigger: 'watch', status: 'running', attempt: 1, paths: [], now: i * 100 })
  }
  const all = jobs.list({}, 100)
  assert.deepEqual(all.map((j) => j.id), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
  assert.deepEqual(jobs.list({ target: 'odd' }, 100).map((j) => j.id), [10, 8, 6, 4, 2])
  assert.deepEqual(jobs.list({ before: 6 }, 2).map((j) => j.id), [5, 4])
  assert.deepEqual(jobs.list({ since: 300, until: 600 }, 100).map((j) => j.id), [6, 5, 4])
})

test('the journal keeps the oldest observation time and never drops a newer change', async (t) => {
  const { db } = await freshDb(t)
  migrate(db)
  const pending = createPendingStore(db)
  pending.upsert([{ target: 't', path: 'p', seq: 1, observedAt: 100 }])
  pending.upsert([{ target: 't', path: 'p', seq: 2, observedAt: 200 }])
  assert.deepEqual(pending.loadAll(), [{ target: 't', path: 'p', seq: 2, observedAt: 100 }])
  pending.remove('t', [{ path: 'p', seq: 1 }])
  assert.equal(pending.loadAll().length, 1, 'a delivery of seq 1 does not confirm the change of seq 2')
  pending.remove('t', [{ path: 'p', seq: 2 }])
  assert.equal(pending.loadAll().length, 0)
  assert.equal(pending.maxSeq(), 0)
})

test('retention deletes finished jobs past the age and count limits, with their paths, and never a running one', async (t) => {
  const { db } = await freshDb(t)
  migrate(db)
  const jobs = createJobStore(db, { pathsPerJob: 10 })
  const { createJobRetention } = await import('../../src/sync/job-retention.js')
  const { pino } = await import('pino')
  const day = 86_400_000
  const now = 100 * day
  for (let i = 0; i < 12_000; i++) {
    const job = jobs.create({ target: 't', kind: 'incremental', trigger: 'watch', status: 'running', attempt: 1, paths: [`p${i}`], now: now - (i < 6_000 ? 40 * day : day) })
    if (i !== 0) jobs.finish(job.id, { status: 'succeeded', exitCode: 0, error: null, warning: null, filesTransferred: 1, bytesTransferred: 1, now })
  }
  const retention = createJobRetention({ jobs, retentionDays: 30, maxJobs: 4_000, logger: pino({ level: 'silent' }), now: () => now })
  const deleted = await retention.pruneOnce()
  const left = db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }
  assert.equal(deleted, 12_000 - 4_000 - 1, 'beyond the newest 4,000, all but the running job 1 went')
  assert.equal(left.n, 4_001)
  assert.equal(jobs.get(1)!.status, 'running')
  const orphans = db.prepare('SELECT COUNT(*) AS n FROM job_paths WHERE job_id NOT IN (SELECT id FROM jobs)').get() as { n: number }
  assert.equal(orphans.n, 0, 'paths go with their job')
})
