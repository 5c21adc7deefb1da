import type { Job } from '../db/job-store.js'
import type { EngineContext } from './engine-context.js'
import type { FlushRequest, FlushResult } from './engine-types.js'
import { undeliveredFloor, type Backlog, type TargetRuntime } from './target-runtime.js'
import { passWatcherBarrier, type WatcherBarrier } from './watcher-barrier.js'

/**
 * A flush waits until its targets delivered every change observed before
 * it (the sequence number `seq` then): a barrier per flush, checked each
 * time a run ends. While one waits on a target, that target's runs start
 * without waiting for a quiet moment (`flushWaiters`).
 */
interface FlushBarrier {
  seq: number
  /** Shrinks when a target is removed: a flush no longer waits for it. */
  targets: Set<TargetRuntime>
  /** The runs that carried changes observed before the flush. */
  jobs: Set<number>
  check (): void
}

export interface FlushBarrierDeps {
  recordChanges: (paths: readonly string[]) => void
  scheduleNext: (t: TargetRuntime) => void
  watcherBarrier: WatcherBarrier | undefined
}

export function createFlushBarriers (ctx: EngineContext, deps: FlushBarrierDeps) {
  const barriers = new Set<FlushBarrier>()

  return {
    async flush (selected: Set<TargetRuntime>, req: FlushRequest): Promise<FlushResult> {
      const startedAt = performance.now()
      if (req.paths !== undefined && req.paths.length > 0) deps.recordChanges(req.paths)
      // Without paths, what was written just before may not be reported yet: the seq below must come after it.
      else if (deps.watcherBarrier !== undefined && !(await passWatcherBarrier(deps.watcherBarrier, req.timeoutMs))) return { done: false, jobs: [] }
      const barrier: FlushBarrier = { seq: ctx.seq, targets: selected, jobs: new Set(), check: () => undefined }
      const reached = (): boolean => [...selected].every((t) => undeliveredFloor(t) > barrier.seq)
      if (reached()) return { done: true, jobs: [] }
      for (const t of selected) {
        t.flushWaiters++
        deps.scheduleNext(t)
      }
      let timer: unknown
      try {
        const done = await new Promise<boolean>((resolve) => {
          barrier.check = () => { if (reached()) resolve(true) }
          barriers.add(barrier)
          timer = ctx.timers.setTimeout(() => resolve(false), Math.max(0, req.timeoutMs - (performance.now() - startedAt)))
        })
        return { done, jobs: [...barrier.jobs].map((id) => ctx.jobs.get(id)).filter((j): j is Job => j !== undefined) }
      } finally {
        ctx.timers.clearTimeout(timer)
        barriers.delete(barrier)
        for (const t of selected) t.flushWaiters--
      }
    },

    /**
     * A primary run of `t` ended well: it answers a barrier if it carried a
     * change observed before it (a mirror read the whole source).
     */
    credit (t: TargetRuntime, jobId: number, batch: Backlog | null): void {
      for (const b of barriers) {
        if (!b.targets.has(t)) continue
        const carried = batch === null || [...batch.values()].some((e) => e.firstSeq <= b.seq)
        if (carried) b.jobs.add(jobId)
      }
    },

    /** Something was delivered (or a target went): every flush looks again. */
    checkAll (): void {
      for (const b of barriers) b.check()
    },

    /** A flush no longer waits for a target that will never be sent to. */
    forget (t: TargetRuntime): void {
      for (const b of barriers) b.targets.delete(t)
    },
  }
}

export type FlushBarriers = ReturnType<typeof createFlushBarriers>
