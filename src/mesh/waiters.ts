/**
 * Callers waiting until `isDone(key)` holds, each with its own signal:
 * `check()` resolves those whose condition now holds (true), an aborted
 * signal or `close()` resolves a waiter false.
 */
export function createWaiters<K> (isDone: (key: K) => boolean) {
  const waiters = new Set<{ key: K, resolve: (done: boolean) => void }>()
  return {
    wait (key: K, signal: AbortSignal): Promise<boolean> {
      if (isDone(key)) return Promise.resolve(true)
      if (signal.aborted) return Promise.resolve(false)
      return new Promise((resolve) => {
        const waiter = {
          key,
          resolve: (done: boolean) => {
            waiters.delete(waiter)
            signal.removeEventListener('abort', onAbort)
            resolve(done)
          },
        }
        const onAbort = (): void => waiter.resolve(false)
        signal.addEventListener('abort', onAbort, { once: true })
        waiters.add(waiter)
      })
    },
    check (): void {
      for (const w of waiters) if (isDone(w.key)) w.resolve(true)
    },
    close (): void {
      for (const w of waiters) w.resolve(false)
    },
  }
}
