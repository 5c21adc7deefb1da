import { inspect } from 'node:util'

export interface WaitForOptions {
  /** Give up after this long; default 20000 ms (generous for slow CI). */
  timeoutMs?: number;
  /** Pause between probes; default 25 ms. */
  intervalMs?: number;
  /**
   * Prefix of the timeout error, saying what was awaited. A function is
   * called at the timeout, so it can name what the last probe found.
   */
  message?: string | (() => string);
}

const NOT_YET = Symbol('not-yet')

/**
 * Polls `probe` until it returns a truthy value and resolves with that value.
 *
 * Tests use this instead of fixed sleeps: a sleep is either too short on a
 * loaded CI machine (flaky) or too long everywhere else (slow). A thrown
 * probe counts as "not yet" so probes can simply assert. A probe that hangs
 * is abandoned at the deadline instead of blocking the test forever.
 * On timeout the error names the last probe error or value, which is usually
 * the explanation of why the condition never held.
 */
export async function waitFor<T> (
  probe: () => T | Promise<T>,
  opts: WaitForOptions = {}
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 20_000
  const intervalMs = opts.intervalMs ?? 25
  const deadline = Date.now() + timeoutMs
  let lastError: unknown = NOT_YET
  let lastValue: unknown = NOT_YET
  let attempts = 0

  for (;;) {
    attempts += 1
    try {
      const value = await withDeadline(Promise.resolve().then(probe), deadline)
      if (value === NOT_YET) break
      if (value) return value as NonNullable<T>
      lastValue = value
      lastError = NOT_YET
    } catch (error) {
      lastError = error
    }
    const remaining = deadline - Date.now()
    if (remaining <= 0) break
    await delay(Math.min(intervalMs, remaining))
  }

  const last =
    lastError !== NOT_YET
      ? `last probe error: ${describeError(lastError)}`
      : lastValue !== NOT_YET
        ? `last probe value: ${inspect(lastValue)}`
        : 'the probe never completed'
  const message = typeof opts.message === 'function' ? opts.message() : opts.message
  const error = new Error(
    `${message ?? 'waitFor: condition not met'} (timed out after ${timeoutMs} ms, ${attempts} attempt(s); ${last})`
  )
  if (lastError !== NOT_YET) (error as Error & { cause?: unknown }).cause = lastError
  throw error
}

function describeError (error: unknown): string {
  if (error instanceof Error) return error.message
  return inspect(error)
}

function delay (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves with NOT_YET if `promise` has not settled by `deadline`. */
async function withDeadline<T> (promise: Promise<T>, deadline: number): Promise<T | typeof NOT_YET> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<typeof NOT_YET>((resolve) => {
    timer = setTimeout(() => resolve(NOT_YET), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}
