import type { Logger } from 'pino'
import type { EngineEvent } from './engine-types.js'

/** The engine's listeners (the event log, metrics): one that throws never stops the others, nor the engine. */
export function createEngineEvents (logger: Logger) {
  const listeners = new Set<(event: EngineEvent) => void>()
  return {
    emit (event: EngineEvent): void {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (err) {
          logger.error({ err, event: event.type }, 'an engine event listener failed')
        }
      }
    },

    /** Returns the unsubscribe function. */
    subscribe (listener: (event: EngineEvent) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
