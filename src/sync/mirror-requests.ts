import type { Job } from '../db/job-store.js'
import { SyncplaneError } from '../errors.js'
import { blocksRuns, type SourceFault } from '../watcher/source-identity.js'
import { oweMirror } from './backlog.js'
import type { DeleteHold } from './delete-guard.js'
import type { DeleteHolds } from './delete-holds.js'
import type { EngineContext } from './engine-context.js'
import type { FullSyncRequest, SourceCheck } from './engine-types.js'
import type { JobWaiters } from './job-waiters.js'
import { previewMirror, type MirrorPreview } from './mirror-preview.js'
import { rsyncBaseOf } from './runs.js'
import { onLane } from './lanes.js'
import type { TargetRuntime } from './target-runtime.js'

export interface MirrorRequestDeps {
  holds: DeleteHolds
  waiters: JobWaiters
  /** Throws ENGINE_CLOSED once the engine closes. */
  assertOpen: () => void
  selectTargets: (names: readonly string[] | undefined) => TargetRuntime[]
  /** Looks at the source root now; the fault in effect. */
  checkSource: () => SourceFault | null
  sourceFault: () => SourceFault | null
  source: SourceCheck | undefined
  /** Recovery's writes come before this engine's first job (see recovery.ts). */
  beforeFirstJob: () => void
  scheduleNext: (t: TargetRuntime) => void
}

/**
 * Full mirrors asked for (the API's resync, the periodic one, after the
 * watcher lost events or the source moved, to confirm held deletions): one
 * queued job per target, made when asked, that a second request joins.
 */
export function createMirrorRequests (ctx: EngineContext, deps: MirrorRequestDeps) {
  const { jobs } = ctx

  function sourceUnavailable (): SyncplaneError {
    return new SyncplaneError('SOURCE_UNAVAILABLE', deps.sourceFault()!.message)
  }

  function request (req: FullSyncRequest): Job[] {
    deps.assertOpen()
    if (req.trigger === 'api' && blocksRuns(deps.checkSource())) throw sourceUnavailable()
    const selected = deps.selectTargets(req.targets)
    deps.beforeFirstJob()
    // Forcing a mirror is how an operator confirms what a target holds back.
    if (req.force === true) confirmHolds(selected)
    return selected.map((t) => {
      if (t.queuedMirror !== null) {
        if (req.force === true) t.queuedMirror.force = true
        return t.queuedMirror.job
      }
      oweMirror(ctx, t, req.trigger)
      const job = jobs.create({ target: t.def.name, kind: 'full', trigger: req.trigger, status: 'queued', attempt: 1, paths: [], requestedBy: req.requestedBy, now: ctx.now() })
      t.queuedMirror = { job, force: req.force === true }
      ctx.emit({ type: 'job.queued', job })
      queueMicrotask(() => deps.scheduleNext(t))
      return job
    })
  }

  function confirmHolds (selected: readonly TargetRuntime[]): void {
    deps.holds.confirm(selected)
    // Once every target let go, the directory now at the source path is the source.
    if (deps.sourceFault() !== null && [...ctx.targets.values()].every((t) => t.hold === null || t.hold.confirmed)) deps.source?.adopt()
  }

  return {
    request,

    /**
     * An operator confirms the deletions target `name` holds: a forced full
     * mirror makes them. `expected` guards against confirming a count that
     * changed since it was read.
     */
    confirmDeletes (name: string, opts: { expected?: number | undefined, requestedBy?: string | undefined } = {}): { hold: DeleteHold, job: Job } {
      const t = deps.selectTargets([name])[0]!
      if (t.hold === null) throw new SyncplaneError('NO_DELETES_HELD', `target "${name}" holds no deletions`)
      if (opts.expected !== undefined && opts.expected !== t.hold.count) {
        throw new SyncplaneError('DELETES_CHANGED', `target "${name}" now holds ${t.hold.count} deletions, not ${opts.expected}; preview again`)
      }
      const [job] = request({ targets: [name], trigger: 'api', force: true, requestedBy: opts.requestedBy })
      return { hold: t.hold, job: job! }
    },

    /** What a forced full mirror would send and delete on each target (the first `cap` names of each), changing nothing. */
    async preview (names: readonly string[] | undefined, cap: number): Promise<MirrorPreview[]> {
      deps.assertOpen()
      if (blocksRuns(deps.checkSource())) throw sourceUnavailable()
      const { options } = ctx
      return Promise.all(deps.selectTargets(names).map((t) => previewMirror({
        target: onLane(t.def, 'primary'),
        common: { ...rsyncBaseOf(options, t.def), compare: options.fullSync.compare },
        runner: ctx.runner,
        cap,
        deadlineMs: options.fullSync.deadlineSec * 1000,
        killGraceMs: options.rsync.killGraceSec * 1000,
      })))
    },

    /**
     * Waits up to `timeoutMs` for queued full mirrors; says which of their
     * targets hold deletions afterwards (the mirror left those undone).
     */
    async waitFor (queued: readonly Job[], timeoutMs: number): Promise<{ done: boolean, jobs: Job[], deletesHeld: Array<{ target: string, count: number, message: string }> }> {
      const done = await deps.waiters.waitWithin(queued.map((j) => j.id), timeoutMs)
      const deletesHeld = [...new Set(queued.map((j) => j.target))].flatMap((name) => {
        const h = ctx.targets.get(name)?.hold
        return h === undefined || h === null || h.confirmed ? [] : [{ target: name, count: h.count, message: h.message }]
      })
      return { done, jobs: queued.map((j) => jobs.get(j.id) ?? j), deletesHeld }
    },

    /** Ends the queued mirror of `t` that will never start (shutdown, the target removed); returns its job. */
    interruptQueued (t: TargetRuntime, reason: string): Job | null {
      if (t.queuedMirror === null) return null
      const { id } = t.queuedMirror.job
      t.queuedMirror = null
      jobs.finish(id, { status: 'interrupted', exitCode: null, error: reason, warning: null, filesTransferred: null, bytesTransferred: null, now: ctx.now() })
      deps.waiters.notify(id)
      return jobs.get(id) ?? null
    },
  }
}
