import { after } from 'node:test'

/** Where a helper registers what undoes it: a test's context (`t`), or a suite's (suiteTeardown()). */
export interface Teardown {
  after (fn: () => unknown): void
}

/**
 * The teardown of a describe() block, for what its before() hook starts:
 * node:test gives suite hooks no context to register with, so the block
 * calls this in its body, and the block's after() hook runs what was
 * registered, each one even when an earlier one fails.
 */
export function suiteTeardown (): Teardown {
  const fns: Array<() => unknown> = []
  after(() => runAll(fns))
  return { after: (fn) => { fns.push(fn) } }
}

/** Runs every function in order, each even when an earlier one throws; then throws the first error. */
export async function runAll (fns: ReadonlyArray<() => unknown>): Promise<void> {
  const errors: unknown[] = []
  for (const fn of fns) {
    try {
      await fn()
    } catch (err) {
      errors.push(err)
    }
  }
  if (errors.length > 0) throw errors[0]
}
