import type { EngineContext } from './engine-context.js'
import { PAUSED_KEY } from './settings-keys.js'
import type { TargetRuntime } from './target-runtime.js'

export type GlobalPause = ReturnType<typeof createGlobalPause>

/**
 * The pause of all replication (the API's watch pause): changes keep being
 * recorded and journaled, nothing is sent; kept across restarts in the
 * settings table. A target paused on its own is target-control.ts.
 */
export function createGlobalPause (ctx: EngineContext, deps: { disarm: (t: TargetRuntime) => void, scheduleNext: (t: TargetRuntime) => void }) {
  const { settings, logger } = ctx
  let paused = settings.get(PAUSED_KEY) === '1'

  return {
    get paused (): boolean {
      return paused
    },

    /** Idempotent: true when this call paused. */
    pause (): boolean {
      const changed = !paused
      paused = true
      settings.set(PAUSED_KEY, '1')
      for (const t of ctx.targets.values()) deps.disarm(t)
      if (changed) {
        logger.info('watching paused')
        ctx.emit({ type: 'watch.paused' })
      }
      return changed
    },

    /** Replicates everything recorded while paused. Idempotent: true when this call resumed. */
    resume (): boolean {
      const changed = paused
      paused = false
      settings.set(PAUSED_KEY, '0')
      if (changed) {
        logger.info('watching resumed')
        ctx.emit({ type: 'watch.resumed' })
        for (const t of ctx.targets.values()) {
          if (t.backlog.size > 0) t.nextTrigger = 'resume'
          deps.scheduleNext(t)
        }
      }
      return changed
    },
  }
}
