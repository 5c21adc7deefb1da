import type { EngineTimers } from './engine-types.js'
import type { TargetRuntime } from './target-runtime.js'

/**
 * One timer per target, armed for the moment its next step is due (a batch
 * window closing, a backoff ending): when it fires, the target is asked
 * again what it does next. Re-arming for the same moment keeps the timer.
 */
export function createTargetWakeups (timers: EngineTimers, now: () => number, due: (t: TargetRuntime) => void) {
  function disarm (t: TargetRuntime): void {
    if (t.timer !== null) timers.clearTimeout(t.timer)
    t.timer = null
  }

  function arm (t: TargetRuntime, at: number): void {
    if (t.timer !== null && t.timerDue === at) return
    disarm(t)
    t.timerDue = at
    t.timer = timers.setTimeout(() => {
      t.timer = null
      due(t)
    }, Math.max(0, at - now()))
  }

  return { arm, disarm }
}
