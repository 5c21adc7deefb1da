import { isDeepStrictEqual } from 'node:util'
import type { Job } from '../db/job-store.js'
import { InternalError } from '../errors.js'
import type { ResolvedTarget } from './targets.js'
import { dropAll, oweMirror } from './backlog.js'
import type { DeleteHolds } from './delete-holds.js'
import type { EngineContext } from './engine-context.js'
import type { EngineOptions, Reconfigured } from './engine-types.js'
import type { FlushBarriers } from './flush-barriers.js'
import type { TargetRuntime } from './target-runtime.js'

export interface ReconfigureDeps {
  holds: DeleteHolds
  barriers: FlushBarriers
  newTarget: (def: ResolvedTarget) => TargetRuntime
  scheduleNext: (t: TargetRuntime) => void
  disarm: (t: TargetRuntime) => void
  /** The batching or mirror interval may have changed: the periodic mirror is set again. */
  intervalChanged: () => void
  /** A run of a removed target, stopped but maybe not ended yet: shutdown waits for it too. */
  retire: (done: Promise<void>) => void
  /** Ends the queued job of `t` that will never start, waking whoever waits for it; returns it, if there was one. */
  interruptQueued: (t: TargetRuntime, reason: string) => Job | null
}

/** A reloaded configuration (SIGHUP), applied to a running engine. */
export function createReconfigure (ctx: EngineContext, deps: ReconfigureDeps) {
  /** Drops a target: its pending changes, owed mirror and queued job go; a running rsync is stopped. */
  function removeTarget (t: TargetRuntime): void {
    t.removed = true
    ctx.targets.delete(t.def.name)
    deps.disarm(t)
    const runningJobId = t.running?.jobId ?? null
    for (const run of [t.running, t.alongsideMirror]) {
      if (run === null) continue
      run.abort.abort()
      deps.retire(run.done)
    }
    const interrupted = deps.interruptQueued(t, 'the target was removed from the configuration before this job started')
    if (interrupted !== null) ctx.emit({ type: 'job.finished', job: interrupted })
    const dropped = dropAll(ctx, t)
    deps.holds.forgetDestination(t)
    deps.barriers.forget(t)
    t.log.info({ droppedPaths: dropped, stoppedJobId: runningJobId }, 'target removed from the configuration; its pending changes are dropped')
  }

  /**
   * `next` replaces every option at once (a run already going keeps what it
   * started with), so a new group of settings needs no code here. The
   * targets become `defs`: a def that is the very object a target runs with
   * leaves it alone, a new object under a known name changes it in place
   * (its pending changes stay), a name not seen before is added with nothing
   * owed (the caller asks for its first mirror), a name missing is removed.
   */
  function reconfigure (next: EngineOptions, defs: readonly ResolvedTarget[]): Reconfigured {
    const previous = ctx.options
    // The journal, the lookups and the watch all belong to one source.
    if (next.source !== previous.source) throw new InternalError('SP_SOURCE_CHANGED', `the source cannot change while running (${previous.source} → ${next.source})`)
    // Files a dropped pattern kept out never reached any target, and no change will ever name them.
    const excludeDropped = previous.excludes.some((p) => !next.excludes.includes(p))
    ctx.options = next
    if (next.fullSync.intervalSec !== previous.fullSync.intervalSec) deps.intervalChanged()

    const result: Reconfigured = { added: [], removed: [], changed: [], mirrorOwed: [] }
    const wanted = new Set(defs.map((d) => d.name))
    for (const t of [...ctx.targets.values()]) {
      if (wanted.has(t.def.name)) continue
      removeTarget(t)
      result.removed.push(t.def.name)
    }
    for (const def of defs) {
      const t = ctx.targets.get(def.name)
      if (t === undefined) {
        ctx.targets.set(def.name, deps.newTarget(def))
        result.added.push(def.name)
        continue
      }
      if (excludeDropped) oweMirror(ctx, t, 'reload')
      if (t.def === def) continue
      const moved = t.def.url !== def.url || !isDeepStrictEqual(t.def.ssh, def.ssh)
      // The same for a pattern of the target's own: what it kept out is on no list of changes.
      const ownExcludeDropped = t.def.rsync.exclude.some((p) => !def.rsync.exclude.includes(p))
      t.def = def
      result.changed.push(def.name)
      // The operator just fixed something (a password, a key): try it now, not after the backoff.
      t.retryAt = null
      t.mirrorRetryAt = null
      if (moved) {
        // What runs to the old destination is no longer wanted; its changes go to the new one, after a mirror.
        t.running?.abort.abort()
        t.alongsideMirror?.abort.abort()
        oweMirror(ctx, t, 'reload')
        // The old destination's size and held deletions say nothing of the new one: its first mirror weighs them.
        deps.holds.forgetDestination(t)
      }
      if (ownExcludeDropped && !moved && !excludeDropped) {
        oweMirror(ctx, t, 'reload')
        result.mirrorOwed.push(def.name)
      }
      if (moved && !excludeDropped) result.mirrorOwed.push(def.name)
    }
    if (excludeDropped) result.mirrorOwed.push(...defs.map((d) => d.name).filter((n) => !result.added.includes(n)))
    // New batch and retry settings may make a run due sooner (or later).
    for (const t of ctx.targets.values()) deps.scheduleNext(t)
    deps.barriers.checkAll()
    return result
  }

  return { reconfigure }
}
