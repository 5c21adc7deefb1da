import type { EngineOptions } from './engine-types.js'
import type { TargetRuntime } from './target-runtime.js'

/**
 * What a target does next, and when: the one decision the engine makes each
 * time something changed for a target (a change recorded, a run ended, a
 * timer fired, pause or resume, the source back). Pure: the coordinator acts
 * on the answer.
 */
export type NextStep =
  /** A run on the primary lane decides again when it ends: leave any timer as it is. */
  | { kind: 'none' }
  /** Nothing is due and nothing will be by itself: no timer. */
  | { kind: 'sleep' }
  /** Nothing now; decide again at `at` (a batching window or a backoff ends). */
  | { kind: 'wake'; at: number }
  | { kind: 'start'; run: 'mirror' | 'incremental' | 'alongsideMirror' }

export interface ScheduleInput {
  at: number
  paused: boolean
  /** The source fault stops every run (see blocksRuns): runs wait for the source. */
  sourceBlocked: boolean
  batch: EngineOptions['batch']
}

const NONE: NextStep = { kind: 'none' }
const SLEEP: NextStep = { kind: 'sleep' }

export function decideNext (t: TargetRuntime, input: ScheduleInput): NextStep {
  if (input.sourceBlocked) return SLEEP
  if (t.running?.kind === 'full') return decideAlongsideMirror(t, input)
  // A run alongside a mirror outlived its mirror: it finishes before anything else starts.
  if (t.alongsideMirror !== null || t.running !== null) return NONE
  const { at, paused } = input
  // An operator's explicit request goes ahead of backoff and pause.
  if (t.queuedMirror?.job.trigger === 'api') return { kind: 'start', run: 'mirror' }
  let due = Infinity
  if (!paused && (t.queuedMirror !== null || t.owedMirrorSeq !== null)) {
    if (t.mirrorRetryAt === null || at >= t.mirrorRetryAt) return { kind: 'start', run: 'mirror' }
    due = t.mirrorRetryAt
  }
  if (!paused && t.backlog.size > 0) {
    const incremental = incrementalDue(t, at, input.batch)
    if (at >= incremental) return { kind: 'start', run: 'incremental' }
    due = Math.min(due, incremental)
  }
  return due === Infinity ? SLEEP : { kind: 'wake', at: due }
}

/**
 * While a mirror runs: the next incremental batch goes alongside it, one at
 * a time, and only to a target whose last runs succeeded; a failing one
 * gets one attempt at a time, paced by its backoff.
 */
function decideAlongsideMirror (t: TargetRuntime, input: ScheduleInput): NextStep {
  if (t.alongsideMirror !== null || input.paused || t.backlog.size === 0 || t.failures > 0 || t.mirrorFailures > 0) return NONE
  const due = incrementalDue(t, input.at, input.batch)
  return input.at >= due ? { kind: 'start', run: 'alongsideMirror' } : { kind: 'wake', at: due }
}

/**
 * When the backlog of `t` is due to go: after its backoff; at once while a
 * flush waits on it; else once changes paused for quietMs, or the oldest
 * one waited maxDelayMs.
 */
export function incrementalDue (t: TargetRuntime, at: number, batch: EngineOptions['batch']): number {
  return t.retryAt ?? (t.flushWaiters > 0 ? at : Math.min(t.lastChangeAt + batch.quietMs, t.firstPendingAt + batch.maxDelayMs))
}
