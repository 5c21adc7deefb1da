import type { Logger } from 'pino'
import { SyncplaneError } from '../errors.js'
import { describeDatabaseError, isDatabaseFault } from './database-fault.js'
import type { DatabaseHealthReporter } from './database-health.js'
import type { Job, JobFilter, JobOutcome, JobStore, JobTable, NewJob } from './job-store.js'
import { createWriteRetry, type RetryTuning } from './write-retry.js'

export interface ResilientJobStoreOptions extends RetryTuning {
  health: DatabaseHealthReporter
  logger: Logger
  pathsPerJob: number
  /** Jobs kept in memory while the database fails; past it the oldest finished ones are forgotten. */
  maxUnsavedJobs?: number
  /** Paths of those jobs kept in all; past it the oldest jobs lose their path lists. */
  maxUnsavedPaths?: number
}

/** A job whose latest state is in memory only; `inDb`: an older state of its row is in the database. */
interface Unsaved { job: Job; paths: string[]; inDb: boolean }

const JOBS_PER_TURN = 200
/** Finished jobs remembered for the engine, which reads a job back right after finishing it. */
const RECENT = 256

/**
 * The job history over a database that may fail. The engine's bookkeeping
 * needs create, finish and get to answer synchronously, so a write that
 * fails keeps the job in memory and answers from there; the backlog is
 * written, oldest first, by a retry with backoff. Ids come from our own
 * sequence (seeded from the table's), so jobs made in memory keep the ids
 * the API already showed once they reach the database.
 */
export function createResilientJobStore (table: JobTable, opts: ResilientJobStoreOptions): JobStore & { flush (): boolean } {
  const maxJobs = opts.maxUnsavedJobs ?? 10_000
  const maxPaths = opts.maxUnsavedPaths ?? 200_000
  let lastId = table.lastId()
  const unsaved = new Map<number, Unsaved>()
  let unsavedPaths = 0
  /** Marking the previous run's jobs interrupted failed at start; it goes first when the database is back. */
  let interruptOwedAt: number | null = null
  const live = new Map<number, Job>()
  const recent = new Map<number, Job>()
  let forgetting = false

  const retry = createWriteRetry({
    writer: 'jobs',
    doing: 'writing the job history',
    health: opts.health,
    write: saveSome,
    budget: JOBS_PER_TURN,
    tuning: opts,
  })

  function saveSome (budget: number): boolean {
    if (interruptOwedAt !== null) {
      table.interruptUnfinished(interruptOwedAt)
      interruptOwedAt = null
    }
    const batch: Unsaved[] = []
    for (const u of unsaved.values()) {
      if (batch.length >= budget) break
      batch.push(u)
    }
    if (batch.length > 0) table.save(batch.map((u) => ({ job: u.job, paths: u.inDb ? [] : u.paths })))
    for (const u of batch) {
      unsaved.delete(u.job.id)
      unsavedPaths -= u.paths.length
    }
    if (unsaved.size === 0) forgetting = false
    return unsaved.size === 0
  }

  // While anything waits, new writes queue behind it: the retry is the only
  // thing that probes a failing database, and the start-up interrupt stays first.
  const backlogged = (): boolean => unsaved.size > 0 || interruptOwedAt !== null

  /** A write goes to the table while nothing waits; undefined when the table did not take it (the retry has the failure, the caller keeps the job in memory). */
  function writeThrough<T> (write: () => T): { value: T } | undefined {
    if (backlogged()) return undefined
    try {
      return { value: write() }
    } catch (err) {
      retry.failed(err)
      return undefined
    }
  }

  function track (job: Job): Job {
    if (job.status === 'queued' || job.status === 'running') {
      live.set(job.id, job)
    } else {
      live.delete(job.id)
      recent.delete(job.id)
      recent.set(job.id, job)
      if (recent.size > RECENT) recent.delete(recent.keys().next().value!)
    }
    return job
  }

  /** Keeps the latest state of a job; `paths` only for a job whose row is not in the database. */
  function keep (job: Job, paths: string[] | null): void {
    const u = unsaved.get(job.id)
    if (u !== undefined) {
      u.job = u.job.pathsTruncated ? { ...job, pathsTruncated: true } : job
      return
    }
    unsaved.set(job.id, { job, paths: paths ?? [], inDb: paths === null })
    unsavedPaths += paths?.length ?? 0
    bound()
  }

  /** A long outage must not grow memory without end: path lists go first, then the oldest finished jobs. */
  function bound (): void {
    for (const u of unsaved.values()) {
      if (unsavedPaths <= maxPaths) break
      if (u.paths.length === 0) continue
      unsavedPaths -= u.paths.length
      u.paths = []
      u.job = { ...u.job, pathsTruncated: true }
    }
    for (const u of unsaved.values()) {
      if (unsaved.size <= maxJobs) break
      if (u.job.status === 'queued' || u.job.status === 'running') continue
      unsaved.delete(u.job.id)
      unsavedPaths -= u.paths.length
      if (!forgetting) opts.logger.warn({ maxUnsavedJobs: maxJobs }, 'the database has been failing for long: the oldest finished jobs kept in memory are forgotten')
      forgetting = true
    }
  }

  /** A read the database could not answer is the API's 503, not a 500: nothing is wrong with the request or with us. */
  function unavailable (err: unknown, doing: string): unknown {
    return isDatabaseFault(err) ? new SyncplaneError('DATABASE_UNAVAILABLE', describeDatabaseError(err, doing)) : err
  }

  function read<T> (doing: string, fn: () => T): T {
    try {
      return fn()
    } catch (err) {
      throw unavailable(err, doing)
    }
  }

  function current (id: number): Job | undefined {
    return unsaved.get(id)?.job ?? live.get(id) ?? recent.get(id) ?? read('reading a job', () => table.get(id))
  }

  function matches (u: Unsaved, f: JobFilter): boolean {
    const j = u.job
    if ((f.status !== undefined && j.status !== f.status) || (f.target !== undefined && j.target !== f.target)) return false
    if ((f.kind !== undefined && j.kind !== f.kind) || (f.trigger !== undefined && j.trigger !== f.trigger)) return false
    if ((f.since !== undefined && j.createdAt < f.since) || (f.until !== undefined && j.createdAt >= f.until)) return false
    if (f.before !== undefined && j.id >= f.before) return false
    if (f.path === undefined) return true
    return u.inDb ? read('reading the job history', () => table.paths(j.id, opts.pathsPerJob)).includes(f.path) : u.paths.includes(f.path)
  }

  return {
    create (nj: NewJob): Job {
      const id = ++lastId
      const written = writeThrough(() => table.create({ ...nj, id }))
      if (written !== undefined) return track(written.value)
      const paths = nj.paths.length > opts.pathsPerJob ? nj.paths.slice(0, opts.pathsPerJob) : [...nj.paths]
      const job: Job = {
        id,
        target: nj.target,
        kind: nj.kind,
        trigger: nj.trigger,
        status: nj.status,
        attempt: nj.attempt,
        pathsCount: nj.paths.length,
        pathsTruncated: paths.length < nj.paths.length,
        filesTransferred: null,
        bytesTransferred: null,
        exitCode: null,
        error: null,
        warning: null,
        requestedBy: nj.requestedBy ?? null,
        createdAt: nj.now,
        startedAt: nj.status === 'running' ? nj.now : null,
        finishedAt: null,
        durationMs: null,
      }
      keep(job, paths)
      return track(job)
    },

    markRunning (id: number, at: number): void {
      if (writeThrough(() => table.markRunning(id, at)) !== undefined) {
        const job = live.get(id)
        if (job !== undefined) track({ ...job, status: 'running', startedAt: at })
        return
      }
      const job = current(id)
      if (job !== undefined) keep(track({ ...job, status: 'running', startedAt: at }), unsaved.has(id) ? [] : null)
    },

    finish (id: number, o: JobOutcome): Job {
      const written = writeThrough(() => table.finish(id, o))
      if (written !== undefined) return track(written.value)
      const job = current(id)
      if (job === undefined) throw new SyncplaneError('DATABASE_UNAVAILABLE', `job ${id} is neither in memory nor in the database`)
      const done: Job = {
        ...job,
        status: o.status,
        exitCode: o.exitCode,
        error: o.error,
        warning: o.warning,
        filesTransferred: o.filesTransferred,
        bytesTransferred: o.bytesTransferred,
        finishedAt: o.now,
        durationMs: job.startedAt === null ? null : o.now - job.startedAt,
      }
      keep(done, unsaved.has(id) ? [] : null)
      return track(done)
    },

    get (id: number): Job | undefined {
      const u = unsaved.get(id)
      if (u !== undefined) return u.job
      try {
        return table.get(id)
      } catch (err) {
        // The engine reads back the jobs it just wrote: memory answers for those.
        const known = live.get(id) ?? recent.get(id)
        if (known !== undefined) return known
        throw unavailable(err, 'reading a job')
      }
    },

    paths (id: number, limit: number): string[] {
      const u = unsaved.get(id)
      if (u !== undefined && !u.inDb) return [...u.paths].sort().slice(0, limit)
      return read('reading the paths of a job', () => table.paths(id, limit))
    },

    list (filter: JobFilter, limit: number): Job[] {
      if (unsaved.size === 0) return read('listing jobs', () => table.list(filter, limit))
      // Rows of jobs kept in memory are stale: ask for enough more that the page stays full without them.
      let stale = 0
      for (const u of unsaved.values()) if (u.inDb) stale++
      const stored = read('listing jobs', () => table.list(filter, limit + stale)).filter((j) => !unsaved.has(j.id))
      const kept = [...unsaved.values()].filter((u) => matches(u, filter)).map((u) => u.job)
      return [...stored, ...kept].sort((a, b) => b.id - a.id).slice(0, limit)
    },

    prune (o: { before: number | null; keep: number | null; batch: number }): number {
      // Jobs kept in memory are not in the table yet; pruning waits until they are.
      if (backlogged()) return 0
      try {
        return table.prune(o)
      } catch (err) {
        opts.logger.warn({ err }, 'could not prune the job history; trying again at the next round')
        return 0
      }
    },

    interruptUnfinished (at: number): number {
      try {
        return table.interruptUnfinished(at)
      } catch (err) {
        interruptOwedAt = at
        retry.failed(err)
        return 0
      }
    },

    /** Shutdown: one last attempt at the backlog, no timer left behind; false when something stayed unwritten. */
    flush (): boolean {
      return retry.flush()
    },
  }
}
