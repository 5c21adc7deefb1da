import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createJobStore, type JobTable, type NewJob } from '../../src/db/job-store.js'
import { createSettingsStore } from '../../src/db/settings-store.js'
import { createDatabaseHealth } from '../../src/db/database-health.js'
import { createResilientJobStore } from '../../src/db/resilient-job-store.js'
import { createResilientSettings } from '../../src/db/resilient-settings.js'
import { isSyncplaneError } from '../../src/errors.js'
import { createFakeTimers } from '../helpers/fake-timers.js'
import { capturingLogger, diskFull, failingStore, ioError } from '../helpers/failing-store.js'

const WRITES = ['create', 'markRunning', 'finish', 'save', 'prune', 'interruptUnfinished'] as const
const READS = ['get', 'list', 'paths'] as const

function setup ({ seed, ...opts }: { maxUnsavedPaths?: number; seed?: (table: JobTable) => void } = {}) {
  const db = openDatabase(':memory:')
  migrate(db)
  const table = createJobStore(db, { pathsPerJob: 5 })
  // What a previous run left, before this one starts.
  seed?.(table)
  const writes = failingStore(table, WRITES)
  const reads = failingStore(writes.store, READS)
  const { logger, lines } = capturingLogger()
  const health = createDatabaseHealth({ logger })
  const clock = createFakeTimers()
  const jobs = createResilientJobStore(reads.store, { health, logger, pathsPerJob: 5, timers: clock.timers, random: () => 0.5, ...opts })
  return { db, table, writes: writes.state, reads: reads.state, health, lines, clock, jobs }
}

const incremental = (paths: string[], now: number): NewJob => ({ target: 'a', kind: 'incremental', trigger: 'watch', status: 'running', attempt: 1, paths, now })
const succeeded = (now: number) => ({ status: 'succeeded' as const, exitCode: 0, error: null, warning: null, filesTransferred: 1, bytesTransferred: 10, now })

test('jobs run while the database fails keep their ids, are listed from memory, and reach the history once it recovers', () => {
  const { db, table, writes, health, clock, jobs } = setup()
  const before = jobs.create(incremental(['x'], 1_000))
  const full = jobs.create({ target: 'a', kind: 'full', trigger: 'api', status: 'queued', attempt: 1, paths: [], now: 1_000 })

  writes.error = diskFull()
  const during = jobs.create(incremental(['p2', 'p1'], 2_000))
  assert.equal(during.id, full.id + 1, 'ids go on from the table')
  assert.equal(health.status().error, 'database or disk is full (SQLITE_FULL) writing the job history')
  assert.equal(jobs.finish(before.id, succeeded(2_500)).status, 'succeeded', 'a job written before finishes in memory')
  jobs.markRunning(full.id, 2_600)
  assert.equal(jobs.get(full.id)!.status, 'running')
  const done = jobs.finish(during.id, succeeded(3_000))
  assert.equal(done.durationMs, 1_000)
  assert.deepEqual(jobs.get(during.id), done)
  assert.deepEqual(jobs.paths(during.id, 10), ['p1', 'p2'])
  assert.deepEqual(jobs.list({}, 10).map((j) => [j.id, j.status]), [[during.id, 'succeeded'], [full.id, 'running'], [before.id, 'succeeded']])
  assert.deepEqual(jobs.list({ status: 'running' }, 10).map((j) => j.id), [full.id], 'a stale row does not match by its old status')
  assert.deepEqual(jobs.list({ path: 'p1' }, 10).map((j) => j.id), [during.id])
  assert.deepEqual(jobs.list({}, 1).map((j) => j.id), [during.id])
  assert.equal(table.get(before.id)!.status, 'running', 'nothing reached the table yet')

  writes.error = null
  clock.advance(clock.waiting()[0]!)
  assert.equal(health.status().state, 'ok')
  assert.deepEqual(table.get(during.id), done)
  assert.deepEqual(table.paths(during.id, 10), ['p1', 'p2'])
  assert.equal(table.get(before.id)!.status, 'succeeded')
  assert.equal(table.get(full.id)!.status, 'running')
  assert.equal(jobs.create(incremental([], 4_000)).id, during.id + 1, 'the table numbers on after the ids given in memory')
  db.close()
})

test('the previous run\'s unfinished jobs are marked interrupted first when the database recovers, never this run\'s', () => {
  let old = 0
  const { db, table, writes, clock, jobs } = setup({ seed: (t) => { old = t.create(incremental(['x'], 1)).id } })
  writes.error = diskFull()
  assert.equal(jobs.interruptUnfinished(100), 0)
  writes.error = null
  const mine = jobs.create(incremental(['y'], 200))
  assert.equal(table.get(mine.id), undefined, 'queued behind the interrupt the database still owes')
  clock.advance(clock.waiting()[0]!)
  assert.equal(table.get(old)!.status, 'interrupted')
  assert.equal(table.get(mine.id)!.status, 'running')
  db.close()
})

test('reads the database cannot answer are 503 problems, except for the jobs the engine is handling', () => {
  const { db, reads, jobs } = setup()
  const running = jobs.create(incremental(['x'], 1))
  const finished = jobs.finish(jobs.create(incremental(['y'], 1)).id, succeeded(2))
  reads.error = ioError()
  assert.equal(jobs.get(running.id)!.status, 'running')
  assert.deepEqual(jobs.get(finished.id), finished)
  assert.throws(() => jobs.list({}, 10), (err) => isSyncplaneError(err) && err.code === 'DATABASE_UNAVAILABLE' && /disk I\/O error \(SQLITE_IOERR_READ\) listing jobs/.test(err.message))
  assert.throws(() => jobs.get(12345), (err) => isSyncplaneError(err) && err.status === 503)
  db.close()
})

test('a long outage keeps the newest path lists within bounds and says so in the job', () => {
  const { db, writes, jobs } = setup({ maxUnsavedPaths: 8 })
  writes.error = diskFull()
  const first = jobs.create(incremental(['a', 'b', 'c', 'd', 'e'], 1))
  const second = jobs.create(incremental(['f', 'g', 'h', 'i', 'j'], 2))
  assert.deepEqual(jobs.paths(first.id, 10), [])
  assert.equal(jobs.get(first.id)!.pathsTruncated, true)
  assert.deepEqual(jobs.paths(second.id, 10), ['f', 'g', 'h', 'i', 'j'])
  db.close()
})

test('pruning a failing database answers 0 instead of throwing into the retention timer', () => {
  const { db, writes, jobs, lines } = setup()
  writes.error = diskFull()
  assert.equal(jobs.prune({ before: 0, keep: null, batch: 10 }), 0)
  assert.ok(lines.some((l) => l.msg.startsWith('could not prune')))
  db.close()
})

test('settings written while the database fails are read back from memory and written together once it recovers', () => {
  const db = openDatabase(':memory:')
  migrate(db)
  const table = createSettingsStore(db)
  const { store, state } = failingStore(table, ['set', 'delete', 'writeAll'])
  const { logger, lines } = capturingLogger()
  const health = createDatabaseHealth({ logger })
  const clock = createFakeTimers()
  const settings = createResilientSettings(store, { health, timers: clock.timers, random: () => 0.5 })
  settings.set('gone', 'x')
  state.error = diskFull()
  settings.set('watch.paused', '1')
  settings.delete('gone')
  settings.set('engine.lifecycle', 'stopped')
  assert.equal(settings.get('watch.paused'), '1')
  assert.equal(settings.get('gone'), undefined)
  assert.equal(table.get('gone'), 'x')
  assert.equal(health.status().error, 'database or disk is full (SQLITE_FULL) writing settings')
  clock.advance(clock.waiting()[0]!)
  assert.equal(table.get('watch.paused'), undefined, 'still failing: nothing written')
  state.error = null
  clock.advance(clock.waiting()[0]!)
  assert.equal(health.status().state, 'ok')
  assert.deepEqual([table.get('watch.paused'), table.get('gone'), table.get('engine.lifecycle')], ['1', undefined, 'stopped'])
  assert.deepEqual(lines.map((l) => l.msg.split(':')[0]!.split(';')[0]), ['database failing', 'database recovered'])
  db.close()
})
