import type { Job } from '../db/job-store.js'
import { retryDelayMs } from './backoff.js'
import { awaitMirror, deliveredBatch, deliveredByMirror, releaseAwaitingMirror, requeueFailed, requeueVanished } from './backlog.js'
import type { EngineContext } from './engine-context.js'
import type { Verdict } from './outcome.js'
import type { Lane } from './lanes.js'
import type { Backlog, TargetRuntime } from './target-runtime.js'
import { CANCELLED_ERROR, holdCancelledLane } from './target-control.js'

/** A run that ended: its lane, its job, and (alongside a mirror) the batch it carried. */
export interface EndedRun {
  lane: Lane
  job: Job
  /** The batch of a run alongside a mirror; the primary lane's is `t.inFlight` (null for a mirror). */
  batch: Backlog | null
}

/**
 * Settles a run that ended, on either lane: its job row, where its paths go
 * (delivered, back to the backlog, or awaiting the mirror beside it), and the
 * backoff of its lane. Returns the finished job and the batch it carried.
 * The coordinator then credits flush barriers and decides what comes next.
 */
export function settleRun (ctx: EngineContext, t: TargetRuntime, run: EndedRun, ended: Verdict, exitCode: number | null): { job: Job, batch: Backlog | null } {
  const at = ctx.now()
  const { job } = run
  // A run an operator cancelled (target-control.ts) is interrupted as a shutdown's is, and says so.
  const cancelled = t.cancelledJobId === job.id && !ended.ok && ended.interrupted
  if (t.cancelledJobId === job.id) t.cancelledJobId = null
  const verdict: Verdict = cancelled ? { ...ended, error: CANCELLED_ERROR } : ended
  const alongside = run.lane === 'alongsideMirror'
  const batch = alongside ? run.batch : t.inFlight
  const mirror = !alongside && t.running?.kind === 'full'
  if (alongside) t.alongsideMirror = null
  else t.inFlight = null
  if (mirror) t.lastMirror = { ok: verdict.ok, startSeq: t.mirrorStartSeq }

  if (verdict.ok) {
    const done = ctx.jobs.finish(job.id, { status: 'succeeded', exitCode, error: null, warning: verdict.warning, ...verdict.stats, now: at })
    if (batch !== null) {
      // Alongside a mirror the journal rows stay until the mirror is known not to have undone this.
      if (alongside) awaitMirror(t, batch)
      else deliveredBatch(ctx, t, batch)
      if (verdict.vanished !== null) requeueVanished(ctx, t, batch, verdict.vanished, at)
    }
    if (mirror) {
      t.mirrorFailures = 0
      deliveredByMirror(ctx, t)
      // Nothing left that an incremental run could fail on: its streak ends too.
      if (t.backlog.size === 0) {
        t.failures = 0
        t.retryAt = null
      }
    } else {
      t.failures = 0
      if (alongside) t.retryAt = null
    }
    if (!alongside && t.failures === 0 && t.mirrorFailures === 0) t.slowRetry = false
    t.lastSuccessAt = at
    t.log.info({ jobId: job.id, kind: job.kind, paths: job.pathsCount, files: done.filesTransferred, bytes: done.bytesTransferred, ms: done.durationMs, warning: verdict.warning ?? undefined, alongside: alongside ? 'full mirror' : undefined }, 'sync succeeded')
  } else {
    ctx.jobs.finish(job.id, { status: verdict.interrupted ? 'interrupted' : 'failed', exitCode, error: verdict.error, warning: null, ...verdict.stats, now: at })
    if (batch !== null) requeueFailed(t, batch, at)
    if (verdict.interrupted) {
      // Shutdown, a moved destination or a cancel: no failure of the target's; a cancelled lane waits, so it is not undone at once.
      if (cancelled) holdCancelledLane(ctx, t, mirror)
      if (!alongside) t.log.warn({ jobId: job.id, kind: job.kind }, 'sync interrupted')
    } else {
      const failures = mirror ? ++t.mirrorFailures : ++t.failures
      t.slowRetry = verdict.retry === 'slow'
      const delay = t.slowRetry ? ctx.options.retry.maxDelayMs : retryDelayMs(failures, ctx.options.retry, ctx.random)
      if (mirror) t.mirrorRetryAt = at + delay
      else t.retryAt = at + delay
      t.lastError = { message: verdict.error, at, jobId: job.id }
      t.log.warn({ jobId: job.id, kind: job.kind, exitCode, error: verdict.error, retryInMs: delay, failures, alongside: alongside ? 'full mirror' : undefined }, 'sync failed')
    }
  }

  if (!alongside) t.running = null
  // What ran alongside a mirror waits for both: the mirror's verdict and the end of the last such run.
  if (alongside ? t.running?.kind !== 'full' : mirror && t.alongsideMirror === null) releaseAwaitingMirror(ctx, t)
  return { job: ctx.jobs.get(job.id)!, batch }
}

/** A bug, not an rsync failure: it is recorded and the paths kept, never wedging the target. */
export function internalErrorVerdict (t: TargetRuntime, job: Job, err: unknown): Verdict {
  t.log.error({ err, jobId: job.id }, 'sync run failed unexpectedly')
  return { ok: false, interrupted: false, error: `internal error: ${(err as Error).message}`, stats: { filesTransferred: null, bytesTransferred: null }, retry: 'normal' }
}
