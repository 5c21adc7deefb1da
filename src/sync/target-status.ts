import type { TargetStatus } from './engine-types.js'
import { undelivered, type TargetRuntime } from './target-runtime.js'
import { stateOf } from './target-state.js'

/**
 * What /v1/status, the metrics and the event log show of target `t` at time
 * `at`. Pure: it reads the record and changes nothing.
 */
export function statusOf (t: TargetRuntime, at: number, paused: boolean): TargetStatus {
  // What a run alongside a mirror delivered reached the target: it is no lag.
  let oldest = t.owedMirrorSeq === null ? Infinity : t.owedMirrorSince
  for (const m of undelivered(t, false)) for (const e of m.values()) if (e.observedAt < oldest) oldest = e.observedAt
  const retryAt = t.retryAt === null ? t.mirrorRetryAt : t.mirrorRetryAt === null ? t.retryAt : Math.min(t.retryAt, t.mirrorRetryAt)
  return {
    name: t.def.name,
    url: t.def.url,
    state: stateOf(t, paused || t.paused),
    paused: t.paused,
    pending: t.backlog.size,
    inFlight: (t.inFlight?.size ?? 0) + (t.alongsideMirror?.batch.size ?? 0),
    fullSyncPending: t.owedMirrorSeq !== null,
    lagMs: oldest === Infinity ? 0 : Math.max(0, at - oldest),
    runningJobId: t.running?.jobId ?? null,
    queuedFullJobId: t.queuedMirror?.job.id ?? null,
    consecutiveFailures: Math.max(t.failures, t.mirrorFailures),
    nextRetryAt: retryAt,
    lastSuccessAt: t.lastSuccessAt,
    lastError: t.lastError,
    deletesHeld: t.hold,
  }
}
