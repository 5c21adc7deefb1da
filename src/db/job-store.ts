import type { Db } from './open.js'

export const JOB_KINDS = ['incremental', 'full'] as const
/**
 * Why a job ran: `watch` a watched change, `api` an operator or CI, `startup`
 * the mirror at start, `retry` a repeat after a failure, `resume` the first
 * batch after a pause, `periodic` the scheduled mirror, `recovery` a mirror
 * owed from before a crash or restart, `watcher` a mirror after the watcher
 * reported lost events, `overflow` a mirror instead of a backlog too long to keep,
 * `reload` a mirror after a configuration reload (a target added or given a new
 * destination, an exclude pattern dropped).
 */
export const JOB_TRIGGERS = ['watch', 'api', 'startup', 'retry', 'resume', 'periodic', 'recovery', 'watcher', 'overflow', 'reload'] as const
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'interrupted'] as const

export type JobKind = typeof JOB_KINDS[number]
export type JobTrigger = typeof JOB_TRIGGERS[number]
export type JobStatus = typeof JOB_STATUSES[number]

export interface Job {
  id: number
  target: string
  kind: JobKind
  trigger: JobTrigger
  status: JobStatus
  attempt: number
  pathsCount: number
  pathsTruncated: boolean
  filesTransferred: number | null
  bytesTransferred: number | null
  exitCode: number | null
  error: string | null
  warning: string | null
  requestedBy: string | null
  createdAt: number
  startedAt: number | null
  finishedAt: number | null
  durationMs: number | null
}

export interface NewJob {
  /** Chosen by the caller (the resilient store numbers jobs itself); the next free id without it. */
  id?: number | undefined
  target: string
  kind: JobKind
  trigger: JobTrigger
  status: 'queued' | 'running'
  attempt: number
  paths: readonly string[]
  requestedBy?: string | undefined
  now: number
}

export interface JobOutcome {
  status: 'succeeded' | 'failed' | 'interrupted'
  exitCode: number | null
  error: string | null
  warning: string | null
  filesTransferred: number | null
  bytesTransferred: number | null
  now: number
}

export interface JobFilter {
  status?: JobStatus | undefined
  target?: string | undefined
  kind?: JobKind | undefined
  trigger?: JobTrigger | undefined
  /** createdAt >= since (epoch ms) */
  since?: number | undefined
  /** createdAt < until (epoch ms) */
  until?: number | undefined
  /** Only jobs that carried this path (as kept in the job's path list). */
  path?: string | undefined
  /** Only jobs with an id below this: the keyset cursor of the previous page. */
  before?: number | undefined
}

interface JobRow {
  id: number
  target: string
  kind: JobKind
  trigger: JobTrigger
  status: JobStatus
  attempt: number
  paths_count: number
  paths_truncated: number
  files_transferred: number | null
  bytes_transferred: number | null
  exit_code: number | null
  error: string | null
  warning: string | null
  requested_by: string | null
  created_at: number
  started_at: number | null
  finished_at: number | null
  duration_ms: number | null
}

const toJob = (r: JobRow): Job => ({
  id: r.id,
  target: r.target,
  kind: r.kind,
  trigger: r.trigger,
  status: r.status,
  attempt: r.attempt,
  pathsCount: r.paths_count,
  pathsTruncated: r.paths_truncated === 1,
  filesTransferred: r.files_transferred,
  bytesTransferred: r.bytes_transferred,
  exitCode: r.exit_code,
  error: r.error,
  warning: r.warning,
  requestedBy: r.requested_by,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  durationMs: r.duration_ms,
})

/** What the engine, the API and retention use of the job history. */
export interface JobStore {
  create (job: NewJob): Job
  markRunning (id: number, now: number): void
  finish (id: number, o: JobOutcome): Job
  get (id: number): Job | undefined
  paths (id: number, limit: number): string[]
  list (filter: JobFilter, limit: number): Job[]
  prune (opts: { before: number | null; keep: number | null; batch: number }): number
  interruptUnfinished (now: number): number
}

export type JobTable = ReturnType<typeof createJobStore>

export function createJobStore (db: Db, opts: { pathsPerJob: number }) {
  const insertJob = db.prepare<unknown[], { id: number }>(`
    INSERT INTO jobs (id, target, kind, trigger, status, attempt, paths_count, paths_truncated, requested_by, created_at, started_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
  const upsertJob = db.prepare(`
    INSERT INTO jobs (id, target, kind, trigger, status, attempt, paths_count, paths_truncated, files_transferred, bytes_transferred,
      exit_code, error, warning, requested_by, created_at, started_at, finished_at, duration_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET status = excluded.status, paths_truncated = excluded.paths_truncated,
      files_transferred = excluded.files_transferred, bytes_transferred = excluded.bytes_transferred, exit_code = excluded.exit_code,
      error = excluded.error, warning = excluded.warning, started_at = excluded.started_at, finished_at = excluded.finished_at,
      duration_ms = excluded.duration_ms`)
  // AUTOINCREMENT remembers ids of pruned jobs too, so a new id never names an old job.
  const lastSeq = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'jobs'")
  const insertPath = db.prepare('INSERT OR IGNORE INTO job_paths (job_id, path) VALUES (?, ?)')
  const selectJob = db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?')
  const selectPaths = db.prepare<[number, number], { path: string }>('SELECT path FROM job_paths WHERE job_id = ? ORDER BY path LIMIT ?')
  const setRunning = db.prepare("UPDATE jobs SET status = 'running', started_at = ? WHERE id = ?")
  const setOutcome = db.prepare(`
    UPDATE jobs SET status = ?, exit_code = ?, error = ?, warning = ?, files_transferred = ?, bytes_transferred = ?,
      finished_at = ?, duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE ? - started_at END
    WHERE id = ?`)
  const interruptAll = db.prepare(`
    UPDATE jobs SET status = 'interrupted', finished_at = ?, error = COALESCE(error, ?),
      duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE ? - started_at END
    WHERE status IN ('queued', 'running')`)

  const finished = "status IN ('succeeded', 'failed', 'interrupted')"
  const pruneOld = db.prepare(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE created_at < ? AND ${finished} ORDER BY id LIMIT ?)`)
  const nthNewest = db.prepare<[number], { id: number }>('SELECT id FROM jobs ORDER BY id DESC LIMIT 1 OFFSET ?')
  const pruneBeyond = db.prepare(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE id <= ? AND ${finished} ORDER BY id LIMIT ?)`)

  const create = db.transaction((job: NewJob): Job => {
    const kept = job.paths.length > opts.pathsPerJob ? job.paths.slice(0, opts.pathsPerJob) : job.paths
    const { id } = insertJob.get(
      job.id ?? null, job.target, job.kind, job.trigger, job.status, job.attempt, job.paths.length,
      kept.length < job.paths.length ? 1 : 0, job.requestedBy ?? null, job.now,
      job.status === 'running' ? job.now : null
    )!
    for (const p of kept) insertPath.run(id, p)
    return toJob(selectJob.get(id)!)
  })

  const save = db.transaction((entries: ReadonlyArray<{ job: Job; paths: readonly string[] }>) => {
    for (const { job: j, paths } of entries) {
      upsertJob.run(j.id, j.target, j.kind, j.trigger, j.status, j.attempt, j.pathsCount, j.pathsTruncated ? 1 : 0, j.filesTransferred,
        j.bytesTransferred, j.exitCode, j.error, j.warning, j.requestedBy, j.createdAt, j.startedAt, j.finishedAt, j.durationMs)
      for (const p of paths) insertPath.run(j.id, p)
    }
  })

  return {
    create,

    /** The highest id ever given to a job (0 for none). */
    lastId (): number {
      return lastSeq.get()?.seq ?? 0
    },

    /** Writes jobs as they are (a new row or over the old one) with the paths given: the backlog of a failing database. */
    save (entries: ReadonlyArray<{ job: Job; paths: readonly string[] }>): void {
      save(entries)
    },

    markRunning (id: number, now: number): void {
      setRunning.run(now, id)
    },

    finish (id: number, o: JobOutcome): Job {
      setOutcome.run(o.status, o.exitCode, o.error, o.warning, o.filesTransferred, o.bytesTransferred, o.now, o.now, id)
      return toJob(selectJob.get(id)!)
    },

    get (id: number): Job | undefined {
      const row = selectJob.get(id)
      return row && toJob(row)
    },

    paths (id: number, limit: number): string[] {
      return selectPaths.all(id, limit).map((r) => r.path)
    },

    list (filter: JobFilter, limit: number): Job[] {
      const where: string[] = []
      const args: (string | number)[] = []
      const eq = (column: string, value: string | undefined): void => {
        if (value !== undefined) { where.push(`${column} = ?`); args.push(value) }
      }
      eq('status', filter.status)
      eq('target', filter.target)
      eq('kind', filter.kind)
      eq('trigger', filter.trigger)
      if (filter.since !== undefined) { where.push('created_at >= ?'); args.push(filter.since) }
      if (filter.until !== undefined) { where.push('created_at < ?'); args.push(filter.until) }
      if (filter.path !== undefined) { where.push('id IN (SELECT job_id FROM job_paths WHERE path = ?)'); args.push(filter.path) }
      if (filter.before !== undefined) { where.push('id < ?'); args.push(filter.before) }
      const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
      return db.prepare<unknown[], JobRow>(sql).all(...args, limit).map(toJob)
    },

    /**
     * Deletes up to `batch` finished jobs (and their paths) that are older
     * than `before` or beyond the newest `keep`. Small batches keep each call
     * short; the caller repeats until it returns less than `batch`.
     */
    prune (opts: { before: number | null; keep: number | null; batch: number }): number {
      let deleted = 0
      if (opts.before !== null) {
        deleted += pruneOld.run(opts.before, opts.batch).changes
      }
      if (opts.keep !== null && deleted < opts.batch) {
        const cutoff = nthNewest.get(opts.keep)
        if (cutoff !== undefined) deleted += pruneBeyond.run(cutoff.id, opts.batch - deleted).changes
      }
      return deleted
    },

    /** At start-up: whatever a previous process left queued or running did not finish. */
    interruptUnfinished (now: number): number {
      return interruptAll.run(now, 'syncplane stopped before this job finished', now).changes
    },
  }
}
