import type { Logger } from 'pino'
import type { Job, JobKind, JobStore, JobTrigger } from '../db/job-store.js'
import type { PendingRow, PendingStore } from '../db/pending-store.js'
import type { SettingsStore } from '../db/settings-store.js'
import { buildFullArgs, buildIncrementalArgs, encodeFileList, type FullCompare, type RsyncCommonOptions } from '../rsync/args.js'
import type { RsyncOutcome, RsyncRunner } from '../rsync/runner.js'
import type { WatcherStatus } from '../watcher/watcher.js'
import { SyncplaneError } from '../errors.js'
import { retryDelayMs, type BackoffOptions } from './backoff.js'
import { lstatKindOf, planBatch, type KindOf } from './batch-plan.js'
import { judgeOutcome } from './outcome.js'
import { checkMirrorSafety } from './mirror-guard.js'
import type { ResolvedTarget } from './targets.js'

export interface EngineOptions {
  source: string
  excludes: readonly string[]
  batch: { quietMs: number; maxDelayMs: number; maxPaths: number }
  rsync: { ioTimeoutSec: number; connectTimeoutSec: number; deadlineSec: number; killGraceSec: number; extraArgs: readonly string[] }
  fullSync: { compare: FullCompare; deadlineSec: number }
  retry: BackoffOptions
}

export interface EngineDeps {
  options: EngineOptions
  targets: readonly ResolvedTarget[]
  jobs: JobStore
  pending: PendingStore
  settings: SettingsStore
  runner: RsyncRunner
  logger: Logger
  watcherStatus: () => WatcherStatus
  now?: () => number
  random?: () => number
  kindOf?: KindOf
}

export type TargetState = 'idle' | 'waiting' | 'paused' | 'syncing' | 'retrying' | 'failing'

export interface TargetStatus {
  name: string
  url: string
  state: TargetState
  pending: number
  inFlight: number
  /** Age of the oldest change this target has not confirmed, in ms; 0 when none. */
  lagMs: number
  runningJobId: number | null
  queuedFullJobId: number | null
  consecutiveFailures: number
  nextRetryAt: number | null
  lastSuccessAt: number | null
  lastError: { message: string; at: number; jobId: number } | null
}

export interface EngineStatus {
  watcher: { state: WatcherStatus['state'] | 'paused'; lastError: string | null }
  paused: boolean
  targets: TargetStatus[]
}

export interface FullSyncRequest {
  targets?: readonly string[] | undefined
  trigger: JobTrigger
  requestedBy?: string | undefined
  /** Mirror even when the source is empty and the target is not. */
  force?: boolean | undefined
}

interface PendingEntry { seq: number; observedAt: number }

interface QueuedFull { job: Job; force: boolean }

interface Target {
  def: ResolvedTarget
  log: Logger
  pending: Map<string, PendingEntry>
  inFlight: Map<string, PendingEntry> | null
  running: { jobId: number; abort: AbortController; done: Promise<void> } | null
  queuedFull: QueuedFull | null
  /** A failed full sync to repeat: (attempt, force) of the next try. */
  fullRetry: { attempt: number; force: boolean } | null
  nextTrigger: JobTrigger
  firstPendingAt: number
  lastChangeAt: number
  timer: NodeJS.Timeout | null
  timerDue: number
  failures: number
  slowRetry: boolean
  retryAt: number | null
  lastSuccessAt: number | null
  lastError: TargetStatus['lastError']
}

const PAUSED_KEY = 'watch.paused'

export type SyncEngine = ReturnType<typeof createSyncEngine>

/**
 * The heart of syncplane: a pending set per target fed by the watcher and
 * journaled in SQLite, drained by one rsync at a time per target, so a slow
 * or dead target only ever delays itself.
 */
export function createSyncEngine (deps: EngineDeps) {
  const { options, jobs, pending: journal, settings, runner, logger } = deps
  const now = deps.now ?? Date.now
  const random = deps.random ?? Math.random
  const kindOf = deps.kindOf ?? lstatKindOf(options.source)
  const common: RsyncCommonOptions = {
    source: options.source,
    excludes: options.excludes,
    ioTimeoutSec: options.rsync.ioTimeoutSec,
    connectTimeoutSec: options.rsync.connectTimeoutSec,
    extraArgs: options.rsync.extraArgs,
  }

  const targets = new Map<string, Target>()
  for (const def of deps.targets) {
    targets.set(def.name, {
      def,
      log: logger.child({ target: def.name }),
      pending: new Map(),
      inFlight: null,
      running: null,
      queuedFull: null,
      fullRetry: null,
      nextTrigger: 'watch',
      firstPendingAt: Infinity,
      lastChangeAt: 0,
      timer: null,
      timerDue: 0,
      failures: 0,
      slowRetry: false,
      retryAt: null,
      lastSuccessAt: null,
      lastError: null,
    })
  }

  let paused = settings.get(PAUSED_KEY) === '1'
  let closing = false
  let seq = journal.maxSeq()
  let unflushed: PendingRow[] = []
  let flushScheduled = false
  const waiters = new Map<number, Array<() => void>>()

  restore()

  function restore (): void {
    const interrupted = jobs.interruptUnfinished(now())
    if (interrupted > 0) logger.warn({ jobs: interrupted }, 'jobs left unfinished by the previous run were marked interrupted')
    const started = now()
    let restored = 0
    for (const row of journal.loadAll()) {
      const t = targets.get(row.target)
      if (t === undefined) continue
      t.pending.set(row.path, { seq: row.seq, observedAt: row.observedAt })
      t.firstPendingAt = Math.min(t.firstPendingAt, started)
      restored++
    }
    if (restored > 0) logger.info({ paths: restored }, 'restored pending changes from the journal')
    for (const t of targets.values()) kick(t)
  }

  function flushJournal (): void {
    flushScheduled = false
    if (unflushed.length === 0) return
    const rows = unflushed
    unflushed = []
    journal.upsert(rows)
  }

  function addPending (t: Target, path: string, entry: PendingEntry): void {
    t.pending.set(path, entry)
    unflushed.push({ target: t.def.name, path, seq: entry.seq, observedAt: entry.observedAt })
  }

  function scheduleFlush (): void {
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flushJournal)
    }
  }

  function recordChanges (paths: readonly string[]): void {
    if (paths.length === 0) return
    const at = now()
    const entry = { seq: ++seq, observedAt: at }
    for (const t of targets.values()) {
      if (t.pending.size === 0) t.firstPendingAt = at
      t.lastChangeAt = at
      for (const p of paths) {
        if (p === '') continue
        const existing = t.pending.get(p)
        addPending(t, p, existing === undefined ? entry : { seq: entry.seq, observedAt: existing.observedAt })
      }
      kick(t)
    }
    scheduleFlush()
  }

  function arm (t: Target, due: number): void {
    if (t.timer !== null && t.timerDue === due) return
    disarm(t)
    t.timerDue = due
    t.timer = setTimeout(() => {
      t.timer = null
      kick(t)
    }, Math.max(0, due - now()))
  }

  function disarm (t: Target): void {
    if (t.timer !== null) clearTimeout(t.timer)
    t.timer = null
  }

  /** Decides whether target `t` should start a run now, later, or not at all. */
  function kick (t: Target): void {
    if (closing || t.running !== null) return
    const at = now()
    if (t.queuedFull !== null && t.queuedFull.job.trigger === 'api') {
      startFull(t, t.queuedFull)
      return
    }
    if (t.retryAt !== null && at < t.retryAt) {
      arm(t, t.retryAt)
      return
    }
    if (!paused && t.queuedFull !== null) {
      startFull(t, t.queuedFull)
      return
    }
    if (!paused && t.fullRetry !== null) {
      const job = jobs.create({ target: t.def.name, kind: 'full', trigger: 'retry', status: 'queued', attempt: t.fullRetry.attempt, paths: [], now: at })
      startFull(t, { job, force: t.fullRetry.force })
      return
    }
    if (paused || t.pending.size === 0) {
      disarm(t)
      return
    }
    const due = t.retryAt !== null
      ? at
      : Math.min(t.lastChangeAt + options.batch.quietMs, t.firstPendingAt + options.batch.maxDelayMs)
    if (at >= due) startIncremental(t)
    else arm(t, due)
  }

  function startIncremental (t: Target): void {
    flushJournal()
    disarm(t)
    const batch = new Map<string, PendingEntry>()
    for (const [p, e] of t.pending) {
      if (batch.size >= options.batch.maxPaths) break
      batch.set(p, e)
    }
    for (const p of batch.keys()) t.pending.delete(p)
    // Whatever did not fit has waited long enough already.
    t.firstPendingAt = t.pending.size > 0 ? now() - options.batch.maxDelayMs : Infinity
    const paths = [...batch.keys()]
    const list = planBatch(paths, kindOf)
    const trigger: JobTrigger = t.failures > 0 ? 'retry' : t.nextTrigger
    t.nextTrigger = 'watch'
    t.retryAt = null
    const job = jobs.create({ target: t.def.name, kind: 'incremental', trigger, status: 'running', attempt: t.failures + 1, paths, now: now() })
    t.inFlight = batch
    t.log.debug({ jobId: job.id, paths: paths.length, listed: list.length }, 'incremental sync started')
    execute(t, job, {
      args: buildIncrementalArgs(t.def, common),
      input: encodeFileList(list),
      deadlineMs: options.rsync.deadlineSec * 1000,
    })
  }

  function startFull (t: Target, queued: QueuedFull): void {
    disarm(t)
    t.queuedFull = null
    t.fullRetry = null
    t.retryAt = null
    const { job, force } = queued
    jobs.markRunning(job.id, now())
    t.log.info({ jobId: job.id, trigger: job.trigger }, 'full sync started')
    const abort = new AbortController()
    // The safety check may ask the target (an rsync listing): hold the slot meanwhile.
    const done = checkMirrorSafety({ source: options.source, target: t.def, common, runner, force, signal: abort.signal })
      .then(async (refusal) => {
        if (refusal !== null) {
          finishRun(t, job, { ok: false, interrupted: abort.signal.aborted, error: refusal, stats: { filesTransferred: null, bytesTransferred: null }, retry: 'slow' }, null, force)
          return
        }
        const outcome = await runner.run({
          args: buildFullArgs(t.def, { ...common, compare: options.fullSync.compare }),
          password: t.def.password,
          deadlineMs: options.fullSync.deadlineSec * 1000,
          killGraceMs: options.rsync.killGraceSec * 1000,
          signal: abort.signal,
        })
        finishRun(t, job, judgeOutcome(outcome, options.source), outcome.exitCode, force)
      })
      .catch((err: unknown) => crash(t, job, err))
    t.running = { jobId: job.id, abort, done }
  }

  function execute (t: Target, job: Job, run: { args: string[]; input: Buffer; deadlineMs: number }): void {
    const abort = new AbortController()
    const done = runner.run({
      args: run.args,
      input: run.input,
      password: t.def.password,
      deadlineMs: run.deadlineMs,
      killGraceMs: options.rsync.killGraceSec * 1000,
      signal: abort.signal,
    })
      .then((outcome: RsyncOutcome) => finishRun(t, job, judgeOutcome(outcome, options.source), outcome.exitCode, false))
      .catch((err: unknown) => crash(t, job, err))
    t.running = { jobId: job.id, abort, done }
  }

  /** A bug, not an rsync failure: record it and keep the paths, never wedge the target. */
  function crash (t: Target, job: Job, err: unknown): void {
    t.log.error({ err, jobId: job.id }, 'sync run failed unexpectedly')
    finishRun(t, job, { ok: false, interrupted: false, error: `internal error: ${(err as Error).message}`, stats: { filesTransferred: null, bytesTransferred: null }, retry: 'normal' }, null, false)
  }

  function finishRun (t: Target, job: Job, verdict: ReturnType<typeof judgeOutcome>, exitCode: number | null, force: boolean): void {
    const at = now()
    const batch = t.inFlight
    t.inFlight = null
    if (verdict.ok) {
      const done = jobs.finish(job.id, { status: 'succeeded', exitCode, error: null, warning: verdict.warning, ...verdict.stats, now: at })
      if (batch !== null) {
        journal.remove(t.def.name, [...batch].map(([path, e]) => ({ path, seq: e.seq })))
        if (verdict.vanished !== null) {
          const again = verdict.vanished === 'unknown' ? [...batch.keys()] : verdict.vanished
          const entry = { seq: ++seq, observedAt: at }
          for (const p of again) if (!t.pending.has(p)) addPending(t, p, entry)
          if (t.pending.size > 0) t.firstPendingAt = Math.min(t.firstPendingAt, at)
          flushJournal()
        }
      }
      t.failures = 0
      t.slowRetry = false
      t.lastSuccessAt = at
      t.log.info({ jobId: job.id, kind: job.kind, paths: job.pathsCount, files: done.filesTransferred, bytes: done.bytesTransferred, ms: done.durationMs, warning: verdict.warning ?? undefined }, 'sync succeeded')
    } else {
      const done = jobs.finish(job.id, {
        status: verdict.interrupted ? 'interrupted' : 'failed',
        exitCode,
        error: verdict.error,
        warning: null,
        ...verdict.stats,
        now: at,
      })
      if (batch !== null) {
        for (const [p, e] of batch) if (!t.pending.has(p)) t.pending.set(p, e)
        t.firstPendingAt = Math.min(t.firstPendingAt, at)
      } else if (!verdict.interrupted) {
        t.fullRetry = { attempt: job.attempt + 1, force }
      }
      if (!verdict.interrupted) {
        t.failures++
        t.slowRetry = verdict.retry === 'slow'
        const delay = t.slowRetry ? options.retry.maxDelayMs : retryDelayMs(t.failures, options.retry, random)
        t.retryAt = at + delay
        t.lastError = { message: verdict.error, at, jobId: job.id }
        t.log.warn({ jobId: job.id, kind: job.kind, exitCode, error: verdict.error, retryInMs: delay, failures: t.failures }, 'sync failed')
      } else {
        t.log.warn({ jobId: done.id, kind: job.kind }, 'sync interrupted')
      }
    }
    t.running = null
    notify(job.id)
    kick(t)
  }

  function notify (jobId: number): void {
    const list = waiters.get(jobId)
    if (list === undefined) return
    waiters.delete(jobId)
    for (const resolve of list) resolve()
  }

  function selectTargets (names: readonly string[] | undefined): Target[] {
    if (names === undefined || names.length === 0) return [...targets.values()]
    return names.map((name) => {
      const t = targets.get(name)
      if (t === undefined) throw new SyncplaneError('TARGET_NOT_FOUND', `no target named "${name}"`, { target: name, known: [...targets.keys()] })
      return t
    })
  }

  function statusOf (t: Target, at: number): TargetStatus {
    let oldest = Infinity
    for (const e of t.pending.values()) if (e.observedAt < oldest) oldest = e.observedAt
    if (t.inFlight !== null) for (const e of t.inFlight.values()) if (e.observedAt < oldest) oldest = e.observedAt
    const state: TargetState = t.running !== null
      ? 'syncing'
      : t.failures > 0
        ? (t.slowRetry ? 'failing' : 'retrying')
        : t.pending.size > 0 || t.queuedFull !== null ? (paused ? 'paused' : 'waiting') : 'idle'
    return {
      name: t.def.name,
      url: t.def.url,
      state,
      pending: t.pending.size,
      inFlight: t.inFlight?.size ?? 0,
      lagMs: oldest === Infinity ? 0 : Math.max(0, at - oldest),
      runningJobId: t.running?.jobId ?? null,
      queuedFullJobId: t.queuedFull?.job.id ?? null,
      consecutiveFailures: t.failures,
      nextRetryAt: t.retryAt,
      lastSuccessAt: t.lastSuccessAt,
      lastError: t.lastError,
    }
  }

  async function drain (abort: boolean): Promise<void> {
    closing = true
    for (const t of targets.values()) {
      disarm(t)
      if (abort) t.running?.abort.abort()
    }
    await Promise.all([...targets.values()].map((t) => t.running?.done))
    const at = now()
    for (const t of targets.values()) {
      if (t.queuedFull !== null) {
        jobs.finish(t.queuedFull.job.id, { status: 'interrupted', exitCode: null, error: 'syncplane stopped before this job started', warning: null, filesTransferred: null, bytesTransferred: null, now: at })
        notify(t.queuedFull.job.id)
        t.queuedFull = null
      }
    }
    flushJournal()
  }

  return {
    recordChanges,

    isPaused (): boolean {
      return paused
    },

    /** Stops syncing watched changes; they keep being recorded. Idempotent. */
    pause (): boolean {
      const changed = !paused
      paused = true
      settings.set(PAUSED_KEY, '1')
      for (const t of targets.values()) disarm(t)
      if (changed) logger.info('watching paused')
      return changed
    },

    /** Replicates everything recorded while paused. Idempotent. */
    resume (): boolean {
      const changed = paused
      paused = false
      settings.set(PAUSED_KEY, '0')
      if (changed) {
        logger.info('watching resumed')
        for (const t of targets.values()) {
          if (t.pending.size > 0) t.nextTrigger = 'resume'
          kick(t)
        }
      }
      return changed
    },

    /**
     * Queues a full mirror per target. A target that already has one queued
     * (not yet running) answers with that job instead of a second one.
     */
    requestFullSync (req: FullSyncRequest): Job[] {
      if (closing) throw new SyncplaneError('ENGINE_CLOSED', 'syncplane is shutting down')
      const selected = selectTargets(req.targets)
      return selected.map((t) => {
        if (t.queuedFull !== null) {
          if (req.force === true) t.queuedFull.force = true
          return t.queuedFull.job
        }
        const job = jobs.create({ target: t.def.name, kind: 'full' as JobKind, trigger: req.trigger, status: 'queued', attempt: 1, paths: [], requestedBy: req.requestedBy, now: now() })
        t.queuedFull = { job, force: req.force === true }
        queueMicrotask(() => kick(t))
        return job
      })
    },

    /** Resolves with the jobs once every one of them has finished. */
    async waitForJobs (ids: readonly number[]): Promise<Job[]> {
      await Promise.all(ids.map((id) => {
        const job = jobs.get(id)
        if (job === undefined || !['queued', 'running'].includes(job.status)) return undefined
        return new Promise<void>((resolve) => {
          const list = waiters.get(id) ?? []
          list.push(resolve)
          waiters.set(id, list)
        })
      }))
      return ids.map((id) => jobs.get(id)).filter((j): j is Job => j !== undefined)
    },

    status (): EngineStatus {
      const at = now()
      const w = deps.watcherStatus()
      return {
        watcher: { state: paused && w.state !== 'stopped' ? 'paused' : w.state, lastError: w.lastError },
        paused,
        targets: [...targets.values()].map((t) => statusOf(t, at)),
      }
    },

    targetNames (): string[] {
      return [...targets.keys()]
    },

    /** Stops starting runs and waits for the running ones to finish. */
    close (): Promise<void> {
      return drain(false)
    },

    /** Stops every running rsync (SIGTERM, then SIGKILL); their jobs end `interrupted`, their paths stay pending. */
    destroy (): Promise<void> {
      return drain(true)
    },
  }
}
