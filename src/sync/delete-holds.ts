import type { Job, JobKind } from '../db/job-store.js'
import { parseTreeCounts } from '../rsync/output.js'
import type { RsyncOutcome } from '../rsync/runner.js'
import type { SourceFault } from '../watcher/source-identity.js'
import { deleteLimit, limitMessage, type HoldReason } from './delete-guard.js'
import type { EngineContext } from './engine-context.js'
import { judgeOutcome, type Verdict } from './outcome.js'
import { filesKey, holdKey } from './settings-keys.js'
import type { TargetRuntime } from './target-runtime.js'

/**
 * The delete guard at run time (its rules are in delete-guard.ts): weighing a
 * run's counted deletions, holding them, confirming and releasing a hold,
 * and the count of entries on each target that the share limit weighs
 * against. A hold is durable (settings) until released.
 */
export function createDeleteHolds (ctx: EngineContext, deps: { checkSource: () => SourceFault | null, isMissing: (rel: string) => boolean }) {
  const { settings } = ctx
  const isMissing = deps.isMissing

  function store (t: TargetRuntime): void {
    settings.set(holdKey(t.def.name), JSON.stringify(t.hold))
  }

  /**
   * The second half of the delete guard. `first` ran with --max-delete=0: it
   * sent everything and counted what it would delete. Within the limit,
   * `deletions` makes them; otherwise they are held.
   */
  async function guardDeletions (t: TargetRuntime, job: Job, kind: JobKind, first: RsyncOutcome, deletions: (maxDelete: number | undefined) => Promise<RsyncOutcome>, mustHold?: string, list?: Uint8Array): Promise<{ outcome: RsyncOutcome, held: number }> {
    const { options } = ctx
    const skipped = first.skippedDeletes
    if (skipped === 0 || !judgeOutcome(first, options.source, isMissing).ok) return { outcome: first, held: 0 }
    const holdAll = (reason: HoldReason, message: string): { outcome: RsyncOutcome, held: number } => {
      // The watcher may report one deletion in several batches: a held one counts once.
      const anew = kind !== 'incremental' || list === undefined || heldAnew(t, list)
      return { outcome: first, held: anew || t.hold === null ? hold(t, job, kind, skipped, reason, message) : 0 }
    }
    if (mustHold !== undefined) return holdAll('source', mustHold)
    const files = parseTreeCounts(first.stdout).files
    // A mirror lists the source; the target holds that and what it would delete.
    const targetFiles = kind === 'full' ? (files === null ? null : files + skipped) : t.fileCount
    // A source that is not the replicated directory any more (looked at again now) deletes nothing.
    const fault = deps.checkSource()
    if (fault !== null) return holdAll('source', fault.message)
    if (t.hold !== null) return holdAll(t.hold.reason, t.hold.message)
    const limit = deleteLimit(options.deletes, targetFiles)
    if (skipped > limit) return holdAll('limit', limitMessage(skipped, options.deletes, targetFiles))
    const second = await deletions(limit === Infinity ? undefined : limit)
    // More to delete than counted a moment ago: the limit stopped the rest.
    const held = second.skippedDeletes > 0 ? hold(t, job, 'incremental', second.skippedDeletes, 'limit', limitMessage(skipped + second.skippedDeletes, options.deletes, targetFiles)) : 0
    const firstExit = first.exitCode === 25 ? 0 : first.exitCode
    return {
      outcome: {
        ...second,
        exitCode: second.exitCode === 0 || second.exitCode === 25 ? firstExit : second.exitCode,
        stdout: `${first.stdout}\n${second.stdout}`,
        sent: first.sent,
        vanishedLines: [...first.vanishedLines, ...second.vanishedLines],
        skippedDeletes: 0,
      },
      held,
    }
  }

  /** Remembers the missing names of a held run's list; false when every one was held before. */
  function heldAnew (t: TargetRuntime, list: Uint8Array): boolean {
    let anew = false
    for (const rel of Buffer.from(list).toString('utf8').split('\0')) {
      if (rel === '' || t.heldDeleteNames.has(rel) || !isMissing(rel)) continue
      t.heldDeleteNames.add(rel)
      anew = true
    }
    return anew
  }

  /** Records that `t` holds `count` more deletions (a mirror's count replaces the sum: it saw them all). */
  function hold (t: TargetRuntime, job: Job, kind: JobKind, count: number, reason: HoldReason, message: string): number {
    const previous = t.hold
    t.hold = {
      reason: previous?.reason ?? reason,
      message: previous?.message ?? message,
      count: kind === 'full' ? count : (previous?.count ?? 0) + count,
      since: previous?.since ?? ctx.now(),
      jobId: job.id,
      confirmed: false,
    }
    store(t)
    t.log.warn({ jobId: job.id, held: count, total: t.hold.count, reason: t.hold.message }, 'deletions held')
    ctx.emit({ type: 'deletes.held', target: t.def.name, hold: t.hold })
    return count
  }

  function releaseHold (t: TargetRuntime): void {
    if (t.hold === null) return
    t.log.info({ count: t.hold.count, reason: t.hold.reason }, 'held deletions released')
    t.hold = null
    t.heldDeleteNames.clear()
    settings.delete(holdKey(t.def.name))
    ctx.emit({ type: 'deletes.released', target: t.def.name })
  }

  return {
    guardDeletions,
    releaseHold,

    /** A run that held deletions but otherwise went well says so in its job's warning. */
    withHeldWarning (verdict: Verdict, held: number, t: TargetRuntime): Verdict {
      if (!verdict.ok || held === 0) return verdict
      const note = `${held} deletions held (${t.hold?.count ?? held} in all on this target): ${t.hold?.message ?? ''}`
      return { ...verdict, warning: verdict.warning === null ? note : `${verdict.warning}; ${note}` }
    },

    /** Keeps the count of entries on the target that the share limit weighs deletions against. */
    countEntries (t: TargetRuntime, outcome: RsyncOutcome, kind: JobKind): void {
      const counts = parseTreeCounts(outcome.stdout)
      if (kind === 'full') {
        if (counts.files === null) return
        t.fileCount = counts.files + (t.hold?.count ?? 0)
        settings.set(filesKey(t.def.name), String(t.fileCount))
      } else if (t.fileCount !== null) {
        t.fileCount = Math.max(0, t.fileCount + counts.created - counts.deleted)
      }
    },

    /** Forcing a mirror is how an operator confirms what these targets hold back: the next mirror makes it, unlimited. */
    confirm (selected: readonly TargetRuntime[]): void {
      for (const t of selected) {
        if (t.hold === null || t.hold.confirmed) continue
        t.hold = { ...t.hold, confirmed: true }
        store(t)
        t.log.warn({ count: t.hold.count }, 'held deletions confirmed; the next full mirror makes them')
      }
    },

    /** A source fault that lets runs go on: every target holds its deletions (none counted yet). */
    holdForSource (t: TargetRuntime, fault: SourceFault): void {
      if (t.hold !== null) return
      t.hold = { reason: 'source', message: fault.message, count: 0, since: ctx.now(), jobId: null, confirmed: false }
      store(t)
      ctx.emit({ type: 'deletes.held', target: t.def.name, hold: t.hold })
    },

    /** A destination's size and held deletions say nothing of another one (a moved or removed target). */
    forgetDestination (t: TargetRuntime): void {
      releaseHold(t)
      t.fileCount = null
      settings.delete(filesKey(t.def.name))
    },
  }
}

export type DeleteHolds = ReturnType<typeof createDeleteHolds>
