import { openDatabase } from '../../src/db/open.js'
import { createJobStore, type Job, type JobFilter, type JobStore } from '../../src/db/job-store.js'
import { createPendingStore, type PendingRow } from '../../src/db/pending-store.js'
import { createSettingsStore } from '../../src/db/settings-store.js'
import type { Db } from '../../src/db/open.js'
import type { TempDir } from './temp-dir.js'

// What a service recorded, read through the db layer's own stores, never
// through SQL: a test pins behaviour, and a renamed column is no behaviour.

/** More than any test makes: every job, every path of a job. */
const ALL = 1_000_000

/** The jobs that match, oldest first (the store lists newest first, as the API does). */
export function jobsOf (jobs: Pick<JobStore, 'list'>, filter: JobFilter = {}): Job[] {
  return jobs.list(filter, ALL).reverse()
}

/** Every path some job carried (as kept in its path list). */
export function pathsCarried (jobs: Pick<JobStore, 'list' | 'paths'>): string[] {
  return jobsOf(jobs).flatMap((j) => jobs.paths(j.id, ALL))
}

/** The journal of a service's database: what no run delivered yet, per target. */
export function journalOf (db: Db, target?: string): PendingRow[] {
  const rows = createPendingStore(db).loadAll()
  return target === undefined ? rows : rows.filter((r) => r.target === target)
}

/**
 * A service's database file opened as the next start would open it, for
 * what a stopped service (the built one, say) left behind; closed when
 * the test ends.
 */
export function openStores (tmp: TempDir, file: string) {
  const db = openDatabase(file)
  tmp.after(() => db.close())
  return { db, jobs: createJobStore(db, { pathsPerJob: ALL }), settings: createSettingsStore(db) }
}
