import { retryDelayMs, type BackoffOptions } from '../sync/backoff.js'
import type { DatabaseHealthReporter, DatabaseWriter } from './database-health.js'

/** The timer functions a retry uses; tests pass a fake clock. */
export interface Timers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
  setImmediate (fn: () => void): unknown
  clearImmediate (handle: unknown): void
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (handle) => clearImmediate(handle as NodeJS.Immediate),
}

/**
 * A full disk clears when someone makes room, which may take minutes: the
 * first retries come quickly so a short hiccup costs little, later ones
 * settle at a few seconds, which is also how long recovery waits at most.
 */
export const DATABASE_RETRY: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 5_000, jitter: 0.2 }

/**
 * How the owner of unwritten data retries, as its caller may set it: the
 * backoff, and the seams tests fill (a fixed jitter, a fake clock). Every
 * owner takes these among its options and hands them to its retry.
 */
export interface RetryTuning {
  backoff?: BackoffOptions | undefined
  random?: (() => number) | undefined
  timers?: Timers | undefined
}

export interface WriteRetryOptions {
  writer: DatabaseWriter
  /** For the status message: "writing the journal". */
  doing: string
  health: DatabaseHealthReporter
  /**
   * Writes up to `budget` units of what the owner keeps and returns true when
   * nothing is left. On failure it throws, and must have kept whatever it did
   * not write.
   */
  write: (budget: number) => boolean
  /** Units per event-loop turn, so that a long backlog does not hold the loop. */
  budget: number
  /** Called after each failed attempt, before the wait (the journal compacts its queue then). */
  onFailure?: () => void
  /** The owner's options (only the tuning is read from them). */
  tuning: RetryTuning
}

export type WriteRetry = ReturnType<typeof createWriteRetry>

/**
 * Drives the writes of one owner of unwritten data: a slice per turn while
 * the database keeps up, a wait with capped backoff after a failure. Health
 * hears of every failure and of the moment everything is written again.
 */
export function createWriteRetry (opts: WriteRetryOptions) {
  const timers = opts.tuning.timers ?? realTimers
  const backoff = opts.tuning.backoff ?? DATABASE_RETRY
  const random = opts.tuning.random ?? Math.random
  let failures = 0
  let pending: { kind: 'turn' | 'retry'; handle: unknown } | null = null

  function cancel (): void {
    if (pending === null) return
    if (pending.kind === 'turn') timers.clearImmediate(pending.handle)
    else timers.clearTimeout(pending.handle)
    pending = null
  }

  function attempt (): void {
    pending = null
    let done: boolean
    try {
      done = opts.write(opts.budget)
    } catch (err) {
      fail(err)
      return
    }
    if (!done) {
      pending = { kind: 'turn', handle: timers.setImmediate(attempt) }
    } else if (failures > 0) {
      failures = 0
      opts.health.recovered(opts.writer)
    }
  }

  function fail (err: unknown): void {
    failures++
    opts.health.failed(opts.writer, opts.doing, err)
    opts.onFailure?.()
    cancel()
    pending = { kind: 'retry', handle: timers.setTimeout(attempt, retryDelayMs(failures, backoff, random)) }
  }

  return {
    /** Something new is kept: it is written on a later turn, or by the retry already waiting. */
    soon (): void {
      if (pending === null) pending = { kind: 'turn', handle: timers.setImmediate(attempt) }
    },

    /** The owner's own write failed; it kept the data, and this retries it after a wait. */
    failed (err: unknown): void {
      fail(err)
    },

    /** True from a failure until everything kept is written. */
    get failing (): boolean {
      return failures > 0
    },

    /**
     * Shutdown: writes everything now, once, and leaves no timer behind.
     * Returns false when something stayed unwritten.
     */
    flush (): boolean {
      cancel()
      try {
        opts.write(Infinity)
      } catch (err) {
        failures++
        opts.health.failed(opts.writer, opts.doing, err)
        return false
      }
      if (failures > 0) {
        failures = 0
        opts.health.recovered(opts.writer)
      }
      return true
    },
  }
}
