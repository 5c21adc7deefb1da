import type { JobKind, JobTrigger } from '../db/job-store.js'
import { buildFullArgs, buildIncrementalArgs, type RsyncCommonOptions, type RunShape } from '../rsync/args.js'
import type { RsyncOutcome } from '../rsync/runner.js'
import { blocksRuns, type SourceFault } from '../watcher/source-identity.js'
import { takeBatch } from './backlog.js'
import type { DeleteHolds } from './delete-holds.js'
import type { EngineContext } from './engine-context.js'
import type { EngineOptions } from './engine-types.js'
import { checkMirrorSafety } from './mirror-guard.js'
import { judgeOutcome, type Verdict } from './outcome.js'
import type { EndedRun } from './settle-run.js'
import type { PlannedRun } from './source-lookup.js'
import { onLane, type Lane } from './lanes.js'
import type { TargetRuntime } from './target-runtime.js'
import { invocationTo, type ResolvedTarget } from './targets.js'

export interface RunDeps {
  holds: DeleteHolds
  /** Plans an incremental run from its paths (lstats, on or off the event loop). */
  plan: (paths: readonly string[]) => Promise<PlannedRun>
  isMissing: (rel: string) => boolean
  /** Looks at the source root now: a fault found is applied before the run goes on. */
  checkSource: () => SourceFault | null
  /** Checks later whether what a run sent is still in the source (see sent-check.ts). */
  checkSentLater: (t: TargetRuntime, names: string[]) => void
  /** Every run ends here, with its verdict; a bug in a run ends here too. */
  ended: (t: TargetRuntime, run: EndedRun, verdict: Verdict, exitCode: number | null) => void
  internalError: (t: TargetRuntime, run: EndedRun, err: unknown) => void
}

/** What every rsync of the engine to `target` shares, from the options in effect and the target's own. */
export function rsyncBaseOf (o: EngineOptions, target: ResolvedTarget): RsyncCommonOptions {
  const own = target.rsync
  return {
    source: o.source,
    excludes: [...o.excludes, ...own.exclude],
    ioTimeoutSec: o.rsync.ioTimeoutSec,
    connectTimeoutSec: o.rsync.connectTimeoutSec,
    // The target's own last: rsync takes the last of a repeated option, so they win over the global ones.
    extraArgs: [...o.rsync.extraArgs, ...(own.bwlimit === undefined ? [] : [`--bwlimit=${own.bwlimit}`]), ...own.extraArgs],
  }
}

/**
 * Starting runs: an incremental batch (on the primary lane, or alongside a
 * running mirror) and a full mirror. Each run sends with its deletions
 * counted, lets the delete guard weigh them, and hands its verdict to
 * `ended`; none of them decides what comes next.
 */
export function createRuns (ctx: EngineContext, deps: RunDeps) {
  const { jobs, runner } = ctx
  const { holds } = deps
  // Read at each use: reconfigure() replaces the options, and a run takes the ones in effect as it passes.
  const base = (t: TargetRuntime): RsyncCommonOptions => rsyncBaseOf(ctx.options, t.def)

  /**
   * A run's passes are done: it is judged; a good one keeps the target's
   * entry count and, `forced`, ends its hold (the deletions are made). Then
   * the run ends, and what it sent is looked at again later.
   */
  function conclude (t: TargetRuntime, run: EndedRun, kind: JobKind, { outcome, held }: { outcome: RsyncOutcome, held: number }, forced = false): void {
    const verdict = holds.withHeldWarning(judgeOutcome(outcome, ctx.options.source, deps.isMissing), held, t)
    if (verdict.ok) {
      holds.countEntries(t, outcome, kind)
      if (forced) holds.releaseHold(t)
    }
    deps.ended(t, run, verdict, outcome.exitCode)
    deps.checkSentLater(t, outcome.sent)
  }

  function startIncremental (t: TargetRuntime, lane: Lane): void {
    if (blocksRuns(deps.checkSource())) return
    const batch = takeBatch(ctx, t)
    const paths = [...batch.keys()]
    const trigger: JobTrigger = t.failures > 0 ? 'retry' : t.nextTrigger
    t.nextTrigger = 'watch'
    t.retryAt = null
    const job = jobs.create({ target: t.def.name, kind: 'incremental', trigger, status: 'running', attempt: t.failures + 1, paths, now: ctx.now() })
    ctx.emit({ type: 'job.started', job })
    if (lane === 'primary') t.inFlight = batch
    const ended: EndedRun = { lane, job, batch: lane === 'primary' ? null : batch }
    const abort = new AbortController()
    // A batch may name 20,000 paths: it is planned off the event loop.
    const done = deps.plan(paths)
      .then(async (planned) => {
        t.log.debug({ jobId: job.id, paths: paths.length, listed: planned.listed }, 'incremental sync started')
        const target = onLane(t.def, lane)
        const pass = (shape: RunShape): Promise<RsyncOutcome> => runner.run(invocationTo(target, {
          args: buildIncrementalArgs(target, base(t), { small: planned.small, ...shape }),
          input: planned.input,
          deadlineMs: ctx.options.rsync.deadlineSec * 1000,
          killGraceMs: ctx.options.rsync.killGraceSec * 1000,
          signal: abort.signal,
        }))
        const passes = await holds.guardDeletions(t, job, 'incremental', await pass({ maxDelete: 0 }), (maxDelete) => pass({ maxDelete, deletionsOnly: true }), undefined, planned.input)
        conclude(t, ended, 'incremental', passes)
      })
      .catch((err: unknown) => deps.internalError(t, ended, err))
    if (lane === 'primary') t.running = { jobId: job.id, kind: 'incremental', abort, done }
    else t.alongsideMirror = { jobId: job.id, batch, abort, done }
  }

  function startMirror (t: TargetRuntime): void {
    if (blocksRuns(deps.checkSource())) return
    const at = ctx.now()
    const queued = t.queuedMirror ?? {
      job: jobs.create({
        target: t.def.name,
        kind: 'full',
        trigger: t.mirrorFailures > 0 ? 'retry' : t.owedMirrorTrigger,
        status: 'queued',
        attempt: t.mirrorFailures + 1,
        paths: [],
        now: at,
      }),
      force: false,
    }
    t.queuedMirror = null
    t.mirrorRetryAt = null
    t.collapsed = false
    // Changes up to here are read by this mirror; later ones are kept for after it.
    t.mirrorStartSeq = ctx.seq
    const { job } = queued
    const ended: EndedRun = { lane: 'primary', job, batch: null }
    // An operator confirmed the held deletions: this mirror makes them, unlimited.
    const force = queued.force || t.hold?.confirmed === true
    jobs.markRunning(job.id, at)
    ctx.emit({ type: 'job.started', job: jobs.get(job.id)! })
    t.log.info({ jobId: job.id, trigger: job.trigger }, 'full sync started')
    const abort = new AbortController()
    // The safety check may ask the target (an rsync listing): hold the lane meanwhile.
    const target = onLane(t.def, 'primary')
    const done = checkMirrorSafety({ source: ctx.options.source, target, common: base(t), runner, force, signal: abort.signal })
      .then(async (refusal) => {
        if (refusal !== null && refusal.holdDeletes !== true) {
          return deps.ended(t, ended, { ok: false, interrupted: abort.signal.aborted, error: refusal.reason, stats: { filesTransferred: null, bytesTransferred: null }, retry: refusal.retry }, null)
        }
        const pass = (shape: RunShape): Promise<RsyncOutcome> => runner.run(invocationTo(target, {
          args: buildFullArgs(target, { ...base(t), compare: ctx.options.fullSync.compare }, shape),
          deadlineMs: ctx.options.fullSync.deadlineSec * 1000,
          killGraceMs: ctx.options.rsync.killGraceSec * 1000,
          signal: abort.signal,
        }))
        const passes = force
          ? { outcome: await pass({}), held: 0 }
          : await holds.guardDeletions(t, job, 'full', await pass({ maxDelete: 0 }), (maxDelete) => pass({ maxDelete, deletionsOnly: true }), refusal?.reason)
        conclude(t, ended, 'full', passes, force)
      })
      .catch((err: unknown) => deps.internalError(t, ended, err))
    t.running = { jobId: job.id, kind: 'full', abort, done }
  }

  return { startIncremental, startMirror }
}
