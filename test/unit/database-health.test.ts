import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDatabaseHealth } from '../../src/db/database-health.js'
import { isDatabaseFault } from '../../src/db/database-fault.js'
import { capturingLogger, diskFull, ioError } from '../helpers/failing-store.js'

test('the database is failing until every writer that fell behind has caught up, and each change of state is logged once', () => {
  const { logger, lines } = capturingLogger()
  let now = 1_000
  const health = createDatabaseHealth({ logger, now: () => now })
  health.failed('journal', 'writing the journal', diskFull())
  now = 2_000
  for (let i = 0; i < 100; i++) health.failed('jobs', 'writing the job history', diskFull())
  assert.deepEqual(health.status(), { state: 'failing', error: 'database or disk is full (SQLITE_FULL) writing the journal', since: 1_000 })
  health.recovered('journal')
  assert.deepEqual(health.status(), { state: 'failing', error: 'database or disk is full (SQLITE_FULL) writing the job history', since: 1_000 })
  health.recovered('jobs')
  health.recovered('jobs')
  assert.deepEqual(health.status(), { state: 'ok', error: null, since: null })
  assert.deepEqual(lines.map((l) => [l.level, l.msg.split(':')[0]!.split(';')[0]]), [[50, 'database failing'], [30, 'database recovered']])
})

test('full disks, I/O errors and locks are faults of the database; SQL errors and other errors are not', () => {
  assert.equal(isDatabaseFault(diskFull()), true)
  assert.equal(isDatabaseFault(ioError()), true)
  assert.equal(isDatabaseFault(new Error('database or disk is full')), false)
})
