import type { Timers } from '../../src/db/write-retry.js'

/**
 * A clock the test moves by hand, for code that takes a Timers: timeouts
 * fire only when `advance` passes them, immediates only on `turn`.
 */
export function createFakeTimers () {
  let now = 0
  let nextId = 1
  const timeouts = new Map<number, { at: number; fn: () => void }>()
  const immediates = new Map<number, () => void>()

  const timers: Timers = {
    setTimeout (fn, ms) {
      const id = nextId++
      timeouts.set(id, { at: now + ms, fn })
      return id
    },
    clearTimeout (id) {
      timeouts.delete(id as number)
    },
    setImmediate (fn) {
      const id = nextId++
      immediates.set(id, fn)
      return id
    },
    clearImmediate (id) {
      immediates.delete(id as number)
    },
  }

  /** One event-loop turn: the immediates queued before it. */
  function turn (): void {
    const due = [...immediates]
    immediates.clear()
    for (const [, fn] of due) fn()
  }

  /** Turns until no immediate is left (a writer working through its backlog). */
  function settle (maxTurns = 10_000): void {
    for (let i = 0; immediates.size > 0; i++) {
      if (i >= maxTurns) throw new Error('immediates keep coming')
      turn()
    }
  }

  return {
    timers,
    now: () => now,
    turn,
    settle,
    /** Delays of the timeouts waiting now, from the current time. */
    waiting: (): number[] => [...timeouts.values()].map((t) => t.at - now),
    pendingImmediates: (): number => immediates.size,
    /** Moves the clock, firing each timeout at its time and settling the turns it starts. */
    advance (ms: number): void {
      const end = now + ms
      for (;;) {
        const next = [...timeouts].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (next === undefined) break
        timeouts.delete(next[0])
        now = next[1].at
        next[1].fn()
        settle()
      }
      now = end
    },
  }
}
