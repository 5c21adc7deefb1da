/** The watcher's barrier (see Watcher.barrier): resolves once every change made before the call was reported. */
export type WatcherBarrier = (signal: AbortSignal) => Promise<void>

/**
 * Passes the watcher's barrier within `timeoutMs`: false when the time ran
 * out first. The barrier is aborted then (it removes its sentinels), and
 * not trusted to end in time by itself.
 */
export async function passWatcherBarrier (barrier: WatcherBarrier, timeoutMs: number): Promise<boolean> {
  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      abort.abort()
      resolve(false)
    }, timeoutMs)
  })
  const passed = barrier(abort.signal).then(() => true, (err: unknown) => {
    if (abort.signal.aborted) return false
    throw err
  })
  try {
    return await Promise.race([passed, expired])
  } finally {
    clearTimeout(timer)
  }
}
