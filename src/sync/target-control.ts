import type { Job } from '../db/job-store.js'
import { SyncplaneError } from '../errors.js'
import type { EngineContext } from './engine-context.js'
import { firstPaths } from './first-paths.js'
import { undelivered, type TargetRuntime } from './target-runtime.js'

/** The per-target pauses, kept across restarts (a JSON list of names). Stored by running services: never rename it. */
export const PAUSED_TARGETS_KEY = 'targets.paused'

/** What the operator cancelled a run with: the job records it, and the lane waits this long before trying again. */
export const CANCELLED_ERROR = 'cancelled by an operator'

export interface PendingPage {
  /** Distinct paths this target has not confirmed yet (waiting, in a run, or awaiting a mirror). */
  total: number
  /** Sorted by path, after the cursor. */
  items: Array<{ path: string, since: number }>
  /** The cursor of the next page; null on the last. */
  next: string | null
  /** A full mirror is owed: it carries changes beyond these paths (changes not kept while the backlog was collapsed, say). */
  fullSyncPending: boolean
}

export interface TargetControlDeps {
  selectTarget: (name: string) => TargetRuntime
  scheduleNext: (t: TargetRuntime) => void
  disarm: (t: TargetRuntime) => void
  interruptQueued: (t: TargetRuntime, reason: string) => Job | null
}

/**
 * What an operator does to one target: pause and resume it (its changes are
 * still recorded, as with the global pause), list the paths it still lacks,
 * and cancel a job. A cancelled run's paths stay pending (nothing is lost);
 * its lane waits retry.maxDelayMs before trying again, so a cancel is not
 * undone at once: pause the target first to hold it.
 */
export function createTargetControl (ctx: EngineContext, deps: TargetControlDeps) {
  const storedPauses = (): Set<string> => {
    try {
      const names: unknown = JSON.parse(ctx.settings.get(PAUSED_TARGETS_KEY) ?? '[]')
      return new Set(Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [])
    } catch {
      return new Set()
    }
  }
  const persist = (): void => {
    const names = [...ctx.targets.values()].filter((t) => t.paused).map((t) => t.def.name).sort()
    ctx.settings.set(PAUSED_TARGETS_KEY, JSON.stringify(names))
  }

  return {
    /** A target as it joins (at start, or added by a reload): paused if it was when the service stopped. */
    adopt (t: TargetRuntime): void {
      t.paused = storedPauses().has(t.def.name)
    },

    pause (name: string): boolean {
      const t = deps.selectTarget(name)
      if (t.paused) return false
      t.paused = true
      persist()
      deps.disarm(t)
      t.log.info('target paused')
      ctx.emit({ type: 'target.paused', target: name })
      return true
    },

    resume (name: string): boolean {
      const t = deps.selectTarget(name)
      if (!t.paused) return false
      t.paused = false
      persist()
      if (t.backlog.size > 0) t.nextTrigger = 'resume'
      t.log.info('target resumed')
      ctx.emit({ type: 'target.resumed', target: name })
      deps.scheduleNext(t)
      return true
    },

    /** The paths `name` still lacks, `limit` at a time, sorted, after `after`. */
    pending (name: string, { limit, after }: { limit: number, after?: string | undefined }): PendingPage {
      const t = deps.selectTarget(name)
      const since = new Map<string, number>()
      for (const m of undelivered(t)) {
        for (const [p, e] of m) {
          const seen = since.get(p)
          if (seen === undefined || e.observedAt < seen) since.set(p, e.observedAt)
        }
      }
      // One more than the page: whether a next page exists.
      const paths = firstPaths(since.keys(), after, limit + 1)
      const items = paths.slice(0, limit).map((p) => ({ path: p, since: since.get(p)! }))
      return { total: since.size, items, next: paths.length > limit ? items.at(-1)!.path : null, fullSyncPending: t.owedMirrorSeq !== null }
    },

    /** Stops job `id` (a run going on, or a mirror waiting to start); returns it as it stands. */
    cancel (id: number): Job {
      const job = ctx.jobs.get(id)
      if (job === undefined) throw new SyncplaneError('JOB_NOT_FOUND', `no job ${id}`)
      const t = ctx.targets.get(job.target)
      if (t !== undefined && t.queuedMirror?.job.id === id) {
        const ended = deps.interruptQueued(t, CANCELLED_ERROR)
        // The mirror it was is still owed (nothing is lost): it waits like a cancelled run's lane.
        if (t.owedMirrorSeq !== null) holdCancelledLane(ctx, t, true)
        deps.scheduleNext(t)
        return ended ?? job
      }
      const run = t === undefined ? null : t.running?.jobId === id ? t.running : t.alongsideMirror?.jobId === id ? t.alongsideMirror : null
      if (t === undefined || run === null) throw new SyncplaneError('JOB_NOT_RUNNING', `job ${id} is ${job.status}: only a running or queued job can be cancelled`)
      t.cancelledJobId = id
      run.abort.abort()
      return job
    },
  }
}

/** After a cancelled run ended: its lane waits before trying again, so the cancel is not undone at once. */
export function holdCancelledLane (ctx: EngineContext, t: TargetRuntime, mirror: boolean): void {
  const at = ctx.now() + ctx.options.retry.maxDelayMs
  if (mirror) t.mirrorRetryAt = at
  else t.retryAt = at
}
