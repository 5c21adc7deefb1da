import { blocksRuns, type SourceFault } from '../watcher/source-identity.js'
import type { Job } from '../db/job-store.js'
import { SyncplaneError } from '../errors.js'
import { intake, nextEntry } from './backlog.js'
import { createDeleteHolds } from './delete-holds.js'
import type { EngineContext } from './engine-context.js'
import { createEngineEvents } from './engine-events.js'
import { realEngineTimers, type EngineDeps, type EngineStatus, type FlushRequest, type FlushResult } from './engine-types.js'
import { createFlushBarriers } from './flush-barriers.js'
import { createGlobalPause } from './global-pause.js'
import { createJobWaiters } from './job-waiters.js'
import { createJournalWriter } from './journal-writer.js'
import { createMirrorRequests } from './mirror-requests.js'
import type { Verdict } from './outcome.js'
import { createReconfigure } from './reconfigure.js'
import { createRecovery } from './recovery.js'
import { createRuns } from './runs.js'
import { decideNext } from './schedule.js'
import { createSentChecks } from './sent-check.js'
import { LIFECYCLE_KEY } from './settings-keys.js'
import { internalErrorVerdict, settleRun, type EndedRun } from './settle-run.js'
import { createSourceQueries } from './source-lookup.js'
import { newTargetRuntime, type TargetRuntime } from './target-runtime.js'
import { statusOf } from './target-status.js'
import { createTargetControl } from './target-control.js'
import { createTargetWakeups } from './target-wakeups.js'

export type { EngineDeps, EngineEvent, EngineOptions, EngineStatus, EngineTimers, FlushRequest, FlushResult, FullSyncRequest, Reconfigured, SourceCheck, TargetStatus } from './engine-types.js'
export { TARGET_STATES, type TargetState } from './target-state.js'

export type SyncEngine = ReturnType<typeof createSyncEngine>

/**
 * The heart of syncplane: a backlog per target fed by the watcher and
 * journaled in SQLite, drained by one run at a time on the target's primary
 * lane (plus one incremental run alongside a running full mirror), so a slow
 * or dead target only ever delays itself.
 *
 * This file is the coordinator: the public API and the loop that, whenever
 * something changed for a target, asks schedule.ts what it does next, starts
 * that (runs.ts), and settles the run when it ends (settle-run.ts). The
 * parts it wires are each one concept; docs/glossary.md names them.
 */
export function createSyncEngine (deps: EngineDeps) {
  const { logger } = deps
  const events = createEngineEvents(logger)
  const timers = deps.timers ?? realEngineTimers
  const ctx: EngineContext = {
    jobs: deps.jobs,
    settings: deps.settings,
    runner: deps.runner,
    logger,
    journal: deps.journalWriter ?? createJournalWriter(deps.pending),
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
    timers,
    options: deps.options,
    seq: deps.pending.maxSeq(),
    targets: new Map(),
    emit: events.emit,
  }
  const { jobs, settings, now } = ctx
  // The source never changes while running (reconfigure refuses it).
  const { plan, isMissing, missingOf } = createSourceQueries(deps.options.source, deps.lookup)

  const newTarget = (def: TargetRuntime['def']): TargetRuntime => {
    const t = newTargetRuntime(def, logger.child({ target: def.name }))
    control.adopt(t)
    return t
  }

  const { arm, disarm } = createTargetWakeups(timers, now, (t) => scheduleNext(t))
  const globalPause = createGlobalPause(ctx, { disarm, scheduleNext })
  let sourceFault: SourceFault | null = null
  let started = false
  /** Set by close() or destroy(): nothing starts any more. */
  let closed = false
  let draining: Promise<void> | null = null
  let periodic: unknown
  /** Runs of removed targets, stopped but maybe not yet ended: shutdown waits for them too. */
  const retiring = new Set<Promise<void>>()

  const control = createTargetControl(ctx, {
    selectTarget: (name) => selectTargets([name])[0]!,
    scheduleNext,
    disarm,
    interruptQueued: (t, reason) => mirrors.interruptQueued(t, reason),
  })
  for (const def of deps.targets) ctx.targets.set(def.name, newTarget(def))

  const recovery = createRecovery(ctx, deps.pending)
  const waiters = createJobWaiters(jobs, timers)
  const sentChecks = createSentChecks({ timers, logger, missingOf, recordChanges })
  const holds = createDeleteHolds(ctx, { checkSource, isMissing })
  const barriers = createFlushBarriers(ctx, { recordChanges, scheduleNext, watcherBarrier: deps.watcherBarrier })
  const runs = createRuns(ctx, {
    holds,
    plan,
    isMissing,
    checkSource,
    checkSentLater: (t, names) => sentChecks.later(t.log, names),
    ended: settle,
    internalError: settleInternalError,
  })
  const { reconfigure } = createReconfigure(ctx, {
    holds,
    barriers,
    newTarget,
    scheduleNext,
    disarm,
    intervalChanged: () => { if (started) schedulePeriodic() },
    retire: (done) => {
      const ended: Promise<void> = done.finally(() => retiring.delete(ended))
      retiring.add(ended)
    },
    interruptQueued: (t, reason) => mirrors.interruptQueued(t, reason),
  })
  const mirrors = createMirrorRequests(ctx, {
    holds,
    waiters,
    assertOpen,
    selectTargets,
    checkSource,
    sourceFault: () => sourceFault,
    source: deps.source,
    beforeFirstJob: recovery.write,
    scheduleNext,
  })

  /** Something changed for target `t`: start what is due, or wake up when it will be. */
  function scheduleNext (t: TargetRuntime): void {
    if (!started || closed || t.removed) return
    const step = decideNext(t, { at: now(), paused: globalPause.paused || t.paused, sourceBlocked: blocksRuns(sourceFault), batch: ctx.options.batch })
    if (step.kind === 'sleep') {
      disarm(t)
    } else if (step.kind === 'wake') {
      arm(t, step.at)
    } else if (step.kind === 'start') {
      disarm(t)
      if (step.run === 'mirror') runs.startMirror(t)
      else runs.startIncremental(t, step.run === 'incremental' ? 'primary' : 'alongsideMirror')
    }
  }

  /** Every run ends here: settled, then flushes look again and the target decides what comes next. */
  function settle (t: TargetRuntime, run: EndedRun, verdict: Verdict, exitCode: number | null): void {
    const { job, batch } = settleRun(ctx, t, run, verdict, exitCode)
    if (run.lane === 'primary' && verdict.ok) barriers.credit(t, job.id, batch)
    waiters.notify(job.id)
    events.emit({ type: 'job.finished', job })
    barriers.checkAll()
    scheduleNext(t)
  }

  /** A bug in our code during a run, not an rsync failure: recorded, the paths kept, the target not wedged. */
  function settleInternalError (t: TargetRuntime, run: EndedRun, err: unknown): void {
    settle(t, run, internalErrorVerdict(t, run.job, err), null)
  }

  /** Looks at the source root now (a few stats): a fault found here is applied before the run goes on. */
  function checkSource (): SourceFault | null {
    if (deps.source !== undefined) deps.source.check()
    return sourceFault
  }

  function recordChanges (paths: readonly string[]): void {
    if (paths.length === 0) return
    const entry = nextEntry(ctx, now())
    for (const t of ctx.targets.values()) if (intake(ctx, t, paths, entry)) scheduleNext(t)
  }

  function selectTargets (names: readonly string[] | undefined): TargetRuntime[] {
    if (names === undefined || names.length === 0) return [...ctx.targets.values()]
    return names.map((name) => {
      const t = ctx.targets.get(name)
      if (t === undefined) throw new SyncplaneError('TARGET_NOT_FOUND', `no target named "${name}"`)
      return t
    })
  }

  function assertOpen (): void {
    if (closed) throw new SyncplaneError('ENGINE_CLOSED', 'syncplane is shutting down')
  }

  /** Applies what the source guard found: holds deletions on every target, or lets go of them when the source is back. */
  function sourceChanged (fault: SourceFault | null): void {
    sourceFault = fault
    if (fault !== null) {
      if (!blocksRuns(fault)) for (const t of ctx.targets.values()) holds.holdForSource(t, fault)
      events.emit({ type: 'watcher.degraded', message: fault.message })
    } else {
      // The replicated directory is back: what its absence looked like deleting was never deleted.
      for (const t of ctx.targets.values()) if (t.hold?.reason === 'source' && !t.hold.confirmed) holds.releaseHold(t)
      events.emit({ type: 'source.restored' })
    }
    for (const t of ctx.targets.values()) scheduleNext(t)
  }

  function schedulePeriodic (): void {
    timers.clearInterval(periodic)
    periodic = undefined
    if (ctx.options.fullSync.intervalSec > 0) {
      periodic = timers.setInterval(() => {
        if (!closed) mirrors.request({ trigger: 'periodic' })
      }, ctx.options.fullSync.intervalSec * 1000)
    }
  }

  /** Waits for the runs going on, then what they sent is checked, queued mirrors end, and the journal is written. */
  async function drain (): Promise<void> {
    recovery.write()
    await Promise.all([...ctx.targets.values()].flatMap((t) => [t.running?.done, t.alongsideMirror?.done]).concat([...retiring]))
    await sentChecks.checkNow()
    for (const t of ctx.targets.values()) mirrors.interruptQueued(t, 'syncplane stopped before this job started')
    // A journal the database did not take is incomplete: the next start must mirror as after a crash.
    if (ctx.journal.flush()) settings.set(LIFECYCLE_KEY, 'stopped')
  }

  /** Stops starting runs and waits for the running ones; a second call joins the first. */
  function close (): Promise<void> {
    if (draining === null) {
      closed = true
      timers.clearInterval(periodic)
      for (const t of ctx.targets.values()) disarm(t)
      draining = drain()
    }
    return draining
  }

  return {
    recordChanges,
    /** A full mirror of the selected targets (every one without names): the API's resync. */
    requestFullSync: mirrors.request,

    async flush (req: FlushRequest): Promise<FlushResult> {
      assertOpen()
      if (globalPause.paused) throw new SyncplaneError('WATCH_PAUSED', 'watching is paused: nothing would reach the targets')
      return barriers.flush(new Set(selectTargets(req.targets)), req)
    },

    sourceChanged,

    /** What a forced full mirror would send and delete on each target (the first `cap` names of each), changing nothing. */
    previewFullSync: mirrors.preview,
    confirmDeletes: mirrors.confirmDeletes,

    /** Job and watcher events, for live streams and metrics. Returns the unsubscribe function. */
    subscribe: events.subscribe,

    /** Starts syncing; call once the watcher is established, so no mirror runs ahead of the watch. */
    start (): void {
      recovery.write()
      started = true
      schedulePeriodic()
      for (const t of ctx.targets.values()) scheduleNext(t)
    },

    /** A reloaded configuration (see reconfigure.ts). */
    reconfigure (...args: Parameters<typeof reconfigure>): ReturnType<typeof reconfigure> {
      assertOpen()
      recovery.write()
      return reconfigure(...args)
    },

    /** The watcher may have missed events: only a full mirror can repair that. */
    watcherDegraded (message: string): void {
      if (closed) return
      logger.warn({ reason: message }, 'watcher degraded; scheduling a full mirror of every target')
      events.emit({ type: 'watcher.degraded', message })
      mirrors.request({ trigger: 'watcher' })
    },

    /** Stops syncing watched changes; they keep being recorded. Idempotent. */
    pause: globalPause.pause,
    /** Replicates everything recorded while paused. Idempotent. */
    resume: globalPause.resume,

    waitForJobs: waiters.waitForJobs,

    /** One target paused apart (its changes still recorded); idempotent. Kept across restarts. */
    pauseTarget: (name: string): boolean => control.pause(name),
    resumeTarget: (name: string): boolean => control.resume(name),
    /** The paths one target still lacks, paged. */
    pendingOf: control.pending,
    /** Cancels a running or queued job; its paths stay pending. */
    cancelJob (id: number): Job {
      assertOpen()
      return control.cancel(id)
    },

    /** Waits up to `timeoutMs` for queued full mirrors; says which of their targets hold deletions afterwards. */
    waitForFullSync: mirrors.waitFor,

    status (): EngineStatus {
      const at = now()
      const paused = globalPause.paused
      const w = deps.watcherStatus()
      return {
        watcher: { state: paused && w.state !== 'stopped' ? 'paused' : w.state, lastError: w.lastError },
        sourceFault,
        paused,
        targets: [...ctx.targets.values()].map((t) => statusOf(t, at, paused)),
      }
    },

    close,

    /** Stops every running rsync (SIGTERM, then SIGKILL); their jobs end `interrupted`, their paths stay pending. Joins a close() under way. */
    destroy (): Promise<void> {
      const drained = close()
      for (const t of ctx.targets.values()) {
        t.running?.abort.abort()
        t.alongsideMirror?.abort.abort()
      }
      return drained
    },
  }
}
