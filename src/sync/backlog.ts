import type { JobTrigger } from '../db/job-store.js'
import type { EngineContext } from './engine-context.js'
import { owedKey } from './settings-keys.js'
import { keptCount, type Backlog, type BacklogEntry, type TargetRuntime } from './target-runtime.js'

/**
 * The backlog of a target: changes come in, a run takes a batch, a failed
 * batch comes back, and a backlog too long to keep collapses into an owed
 * full mirror. Every change kept is journaled (the writer trails memory by a
 * few turns); the journal row goes once a run delivered it.
 */

function addToBacklog (ctx: EngineContext, t: TargetRuntime, path: string, entry: BacklogEntry): void {
  t.backlog.set(path, entry)
  ctx.journal.upsert({ target: t.def.name, path, seq: entry.seq, observedAt: entry.observedAt })
}

/** A new observation, numbered after everything seen so far. */
export function nextEntry (ctx: EngineContext, at: number): BacklogEntry {
  const seq = ++ctx.seq
  return { seq, firstSeq: seq, observedAt: at }
}

/** True while an owed full mirror that has not started yet will read every change seen now. */
export function owedMirrorIsAhead (t: TargetRuntime): boolean {
  if (t.owedMirrorSeq === null) return false
  return !(t.running?.kind === 'full' && t.owedMirrorSeq <= t.mirrorStartSeq)
}

/** Records (durably) that target `t` needs a full mirror covering every change seen so far. */
export function oweMirror (ctx: EngineContext, t: TargetRuntime, trigger: JobTrigger): void {
  if (owedMirrorIsAhead(t)) return
  t.owedMirrorSeq = ++ctx.seq
  t.owedMirrorTrigger = trigger
  t.owedMirrorSince = ctx.now()
  ctx.settings.set(owedKey(t.def.name), String(t.owedMirrorSeq))
}

/** Collapsed and the owed mirror not started: changes seen now are left to that mirror. */
export const dropsChanges = (t: TargetRuntime): boolean => t.collapsed && owedMirrorIsAhead(t)

/** Replaces the backlog of `t` by an owed mirror and stops keeping changes until it starts. */
function collapse (ctx: EngineContext, t: TargetRuntime, trigger: JobTrigger): void {
  oweMirror(ctx, t, trigger)
  t.collapsed = true
  t.backlog.clear()
  t.awaitingMirror.clear()
  ctx.journal.removeTarget(t.def.name)
  t.firstPendingAt = Infinity
}

/** Takes one observation of `paths` (numbered `entry`) into the backlog of `t`; false when it is left to an owed mirror. */
export function intake (ctx: EngineContext, t: TargetRuntime, paths: readonly string[], entry: BacklogEntry): boolean {
  const at = entry.observedAt
  if (dropsChanges(t)) {
    t.droppedFrom ??= entry.seq
    t.droppedTo = entry.seq
    return false
  }
  if (t.backlog.size === 0) t.firstPendingAt = at
  t.lastChangeAt = at
  for (const p of paths) {
    if (p === '') continue
    const existing = t.backlog.get(p)
    addToBacklog(ctx, t, p, existing === undefined ? entry : { seq: entry.seq, firstSeq: existing.firstSeq, observedAt: existing.observedAt })
  }
  const kept = keptCount(t)
  const { maxPending } = ctx.options.batch
  if (kept > maxPending) {
    t.log.warn({ backlog: kept, maxPending }, 'backlog too long to keep; a full mirror will replace it')
    collapse(ctx, t, 'overflow')
  }
  return true
}

/** The next incremental batch: up to batch.maxPaths paths, oldest first, out of the backlog. */
export function takeBatch (ctx: EngineContext, t: TargetRuntime): Backlog {
  const batch: Backlog = new Map()
  for (const [p, e] of t.backlog) {
    if (batch.size >= ctx.options.batch.maxPaths) break
    batch.set(p, e)
  }
  for (const p of batch.keys()) t.backlog.delete(p)
  // Whatever did not fit has waited long enough already.
  t.firstPendingAt = t.backlog.size > 0 ? ctx.now() - ctx.options.batch.maxDelayMs : Infinity
  return batch
}

/** Paths rsync found vanished mid-run (exit 24) go again, as a new change. */
export function requeueVanished (ctx: EngineContext, t: TargetRuntime, batch: Backlog, vanished: string[] | 'unknown', at: number): void {
  if (dropsChanges(t)) return
  const again = vanished === 'unknown' ? [...batch.keys()] : vanished
  const entry = nextEntry(ctx, at)
  for (const p of again) if (!t.backlog.has(p)) addToBacklog(ctx, t, p, entry)
  if (t.backlog.size > 0) t.firstPendingAt = Math.min(t.firstPendingAt, at)
}

/** A failed run's paths are pending again, keeping when they were first seen (their journal rows never went). */
export function requeueFailed (t: TargetRuntime, batch: Backlog, at: number): void {
  if (dropsChanges(t)) return
  for (const [p, e] of batch) {
    const newer = t.backlog.get(p)
    t.backlog.set(p, newer === undefined ? e : { ...newer, firstSeq: e.firstSeq, observedAt: e.observedAt })
  }
  t.firstPendingAt = Math.min(t.firstPendingAt, at)
}

/** A run alongside a mirror delivered `batch`: it waits for the mirror's end (see releaseAwaitingMirror). */
export function awaitMirror (t: TargetRuntime, batch: Backlog): void {
  for (const [p, e] of batch) if (!t.awaitingMirror.has(p)) t.awaitingMirror.set(p, e)
}

/** After a mirror: what runs alongside it delivered is done if the mirror read it, else it goes again. */
export function releaseAwaitingMirror (ctx: EngineContext, t: TargetRuntime): void {
  if (t.awaitingMirror.size === 0) return
  const { ok, startSeq } = t.lastMirror
  const done: Array<{ path: string; seq: number }> = []
  for (const [p, e] of t.awaitingMirror) {
    if (ok && e.seq <= startSeq) done.push({ path: p, seq: e.seq })
    else if (!t.backlog.has(p) && !dropsChanges(t)) t.backlog.set(p, e)
  }
  t.awaitingMirror.clear()
  ctx.journal.remove(t.def.name, done)
  if (t.backlog.size > 0) {
    t.firstPendingAt = Math.min(t.firstPendingAt, ctx.now())
    t.lastChangeAt = 0
  }
}

/**
 * A mirror that started at `mirrorStartSeq` ended well: every change up to
 * there is delivered, even ones an incremental run could not carry (a path
 * the target refuses), and so is the mirror it owed.
 */
export function deliveredByMirror (ctx: EngineContext, t: TargetRuntime): void {
  const upTo = t.mirrorStartSeq
  if (t.droppedFrom !== null && t.droppedTo <= upTo) t.droppedFrom = null
  for (const [p, e] of t.backlog) if (e.seq <= upTo) t.backlog.delete(p)
  if (t.backlog.size === 0) t.firstPendingAt = Infinity
  ctx.journal.removeUpTo(t.def.name, upTo)
  if (t.owedMirrorSeq !== null && t.owedMirrorSeq <= upTo) {
    t.owedMirrorSeq = null
    ctx.settings.delete(owedKey(t.def.name))
  }
}

/** An incremental run delivered `batch`: its journal rows go (a newer observation's row stays). */
export function deliveredBatch (ctx: EngineContext, t: TargetRuntime, batch: Backlog): void {
  ctx.journal.remove(t.def.name, [...batch].map(([path, e]) => ({ path, seq: e.seq })))
}

/** Forgets every change of `t` (a target removed from the configuration); returns how many were kept. */
export function dropAll (ctx: EngineContext, t: TargetRuntime): number {
  const dropped = keptCount(t)
  t.backlog.clear()
  t.awaitingMirror.clear()
  t.owedMirrorSeq = null
  t.droppedFrom = null
  ctx.journal.removeTarget(t.def.name)
  ctx.settings.delete(owedKey(t.def.name))
  return dropped
}
