import type { EngineEvent, SyncEngine } from './engine.js'

export interface LoggedEvent {
  id: number
  type: string
  at: number
  data: Record<string, unknown>
}

export type EventLog = ReturnType<typeof createEventLog>

/**
 * Numbers engine events and keeps the last `capacity` of them, so a client
 * that reconnects with Last-Event-ID picks up where it left off, and one that
 * fell further behind is told how much it missed instead of silently losing it.
 */
export function createEventLog (engine: Pick<SyncEngine, 'subscribe' | 'status'>, opts: {
  capacity: number
  now?: () => number
  /** On a mesh node: its batches, peers reached or lost, conflicts. */
  mesh?: { subscribe (listener: (event: { type: string; data: Record<string, unknown> }) => void): () => void } | undefined
}) {
  const now = opts.now ?? Date.now
  const buffer: LoggedEvent[] = []
  const listeners = new Set<(event: LoggedEvent) => void>()
  const targetStates = new Map<string, string>()
  let nextId = 1

  const append = (type: string, data: Record<string, unknown>): void => {
    const event = { id: nextId++, type, at: now(), data }
    buffer.push(event)
    if (buffer.length > opts.capacity) buffer.shift()
    for (const listener of listeners) listener(event)
  }

  const onEngineEvent = (event: EngineEvent): void => {
    if (event.type === 'job.queued' || event.type === 'job.started' || event.type === 'job.finished') {
      append(event.type, { job: event.job })
      // Target states move with jobs; reading them per job (not per file event) keeps this cheap.
      for (const t of engine.status().targets) {
        if (targetStates.get(t.name) !== t.state) {
          targetStates.set(t.name, t.state)
          append('target.state', { target: t.name, state: t.state, lastError: t.lastError })
        }
      }
    } else if (event.type === 'watcher.degraded') {
      append(event.type, { message: event.message })
    } else if (event.type === 'deletes.held') {
      append(event.type, { target: event.target, hold: event.hold })
    } else if (event.type === 'deletes.released') {
      append(event.type, { target: event.target })
    } else {
      append(event.type, {})
    }
  }
  const unsubscribe = engine.subscribe(onEngineEvent)
  const unsubscribeMesh = opts.mesh?.subscribe((event) => append(event.type, event.data))

  return {
    /** Events after `lastId`; `missed` counts those already dropped from the buffer. */
    since (lastId: number): { events: LoggedEvent[]; missed: number } {
      const oldest = buffer[0]?.id ?? nextId
      const missed = Math.max(0, oldest - lastId - 1)
      return { events: buffer.filter((e) => e.id > lastId), missed }
    },
    lastId (): number {
      return nextId - 1
    },
    listen (listener: (event: LoggedEvent) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close (): void {
      unsubscribe()
      unsubscribeMesh?.()
      listeners.clear()
    },
  }
}
