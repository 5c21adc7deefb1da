import type { TargetRuntime } from './target-runtime.js'

/**
 * The state a target shows (status, events, metrics). It is a projection of
 * the runtime record, decided here and nowhere else, by precedence: a run
 * going on shows first, then a failure streak, then held deletions, then
 * work owed, else idle.
 *
 *            change recorded, mirror owed or queued
 *   ┌──────┐ ─────────────────────────────────────▶ ┌─────────┐  pause   ┌────────┐
 *   │ idle │                                        │ waiting │ ───────▶ │ paused │
 *   └──────┘ ◀── run ends well, nothing owed ─┐     └─────────┘ ◀─────── └────────┘
 *                                             │       │ batch due,        resume
 *                                             │       │ mirror due
 *                                             │       ▼
 *                                          ┌─────────┐ run fails ┌──────────┐ needs an operator ┌─────────┐
 *                                          │ syncing │ ────────▶ │ retrying │ ────────────────▶ │ failing │
 *                                          └─────────┘ ◀──────── └──────────┘                   └─────────┘
 *                                               ▲      retryAt passes                                │
 *                                               └────────────────────────────────────────────────────┘
 *
 *   held: deletions are held (the guard's limit, a source fault) and no run
 *   or failure shows; it ends when an operator confirms them (a forced
 *   mirror) or the source comes back.
 *
 * A run that ends well clears the streak of its lane (incremental runs and
 * mirrors back off apart; the worse of the two shows). An interrupted run
 * (shutdown, a moved destination) counts as no failure.
 */
export const TARGET_STATES = ['idle', 'waiting', 'paused', 'syncing', 'retrying', 'failing', 'held'] as const
export type TargetState = typeof TARGET_STATES[number]

/** True while the target owes work: changes in the backlog, a mirror owed or queued. */
export function owesWork (t: TargetRuntime): boolean {
  return t.backlog.size > 0 || t.queuedMirror !== null || t.owedMirrorSeq !== null
}

export function stateOf (t: TargetRuntime, paused: boolean): TargetState {
  if (t.running !== null) return 'syncing'
  if (Math.max(t.failures, t.mirrorFailures) > 0) return t.slowRetry ? 'failing' : 'retrying'
  if (t.hold !== null) return 'held'
  if (owesWork(t)) return paused ? 'paused' : 'waiting'
  return 'idle'
}
