import type { MeshStore } from '../db/mesh-store.js'

/**
 * Flush waiters: each waits until no peer is owed anything queued at or
 * before its sequence number. Looked at after every acknowledged batch.
 */
export function createFlushWaiters (store: Pick<MeshStore, 'owedUpTo'>) {
  const waiters = new Set<{ upTo: number, resolve: (done: boolean) => void }>()
  return {
    wait (upTo: number, signal: AbortSignal): Promise<boolean> {
      if (store.owedUpTo(upTo) === 0) return Promise.resolve(true)
      return new Promise((resolve) => {
        const waiter = {
          upTo,
          resolve: (done: boolean) => {
            waiters.delete(waiter)
            signal.removeEventListener('abort', onAbort)
            resolve(done)
          },
        }
        const onAbort = (): void => waiter.resolve(false)
        signal.addEventListener('abort', onAbort)
        waiters.add(waiter)
      })
    },
    check (): void {
      for (const w of waiters) if (store.owedUpTo(w.upTo) === 0) w.resolve(true)
    },
    close (): void {
      for (const w of waiters) w.resolve(false)
    },
  }
}
