import type { Logger } from 'pino'
import { readRootIdentity, type RootIdentity } from '../watcher/source-identity.js'
import type { WatchCheck, Watcher, WatcherSettings, WatcherStatus } from '../watcher/watcher.js'

export interface SourceWatchOptions {
  root: string
  /** A new watcher on the root, with the excludes in effect (a reload may have changed them since start). */
  make: () => Watcher
  /** The directory now at the root path is watched: what was written to it before was never reported. */
  onRewatched: () => void
  logger: Logger
}

/**
 * The watch of the source root, kept on the directory at the root path.
 * Another directory there (a volume unmounted or mounted, a root moved and
 * made again) leaves the old watch on a tree that is gone: the new one is
 * watched in its place, by the same watcher when it can restart, by a new
 * one otherwise.
 */
export function createSourceWatch ({ root, make, onRewatched, logger }: SourceWatchOptions) {
  let watcher = make()
  // The directory the running watcher was started on.
  let watched: RootIdentity | null = null
  let stopping = false
  let rewatching: Promise<void> | null = null

  /** Another directory than the watched one is at the source path. */
  const isNewDirectory = (current: RootIdentity | null): boolean =>
    current !== null && watched !== null && (current.dev !== watched.dev || current.ino !== watched.ino)

  /** Watches the new directory; the caller mirrors it (onRewatched), and the engine holds deletions meanwhile. */
  async function rewatch (): Promise<void> {
    if (rewatching !== null || stopping) return
    rewatching = (async () => {
      const old = watcher
      if (old.restart === undefined) await old.close().catch((err: unknown) => logger.warn({ err }, 'closing the old watch failed'))
      if (stopping) return
      // parcel keeps the old tree a moment after an unmount (its unsubscribe fails with EINVAL): try again.
      for (let attempt = 1; !stopping; attempt++) {
        watched = readRootIdentity(root)
        try {
          if (old.restart !== undefined) {
            await old.restart()
          } else {
            watcher = make()
            await watcher.start()
          }
          break
        } catch (err) {
          if (watcher !== old) await watcher.close().catch(() => undefined)
          logger.warn({ err, attempt }, 'could not watch the directory now at the source path yet; trying again')
          await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)))
        }
      }
      if (stopping) return
      logger.warn({ source: root }, 'watching the directory now at the source path')
      onRewatched()
    })().catch((err: unknown) => {
      logger.error({ err }, 'could not watch the directory now at the source path')
    }).finally(() => {
      rewatching = null
      // It may have changed again meanwhile.
      if (isNewDirectory(readRootIdentity(root))) void rewatch()
    })
    await rewatching
  }

  return {
    /** Establishes the watch on the directory at the root path now. */
    async start (): Promise<void> {
      watched = readRootIdentity(root)
      await watcher.start()
    },

    /** What the source guard found at the root path: another directory there is watched in place of the old one. */
    rootChanged (current: RootIdentity | null): void {
      if (isNewDirectory(current)) void rewatch()
    },

    status (): WatcherStatus {
      return watcher.status()
    },

    barrier (signal: AbortSignal): Promise<void> {
      return watcher.barrier(signal)
    },

    checkWatches (checks: readonly WatchCheck[]): void {
      watcher.checkWatches?.(checks)
    },

    reconfigure (settings: WatcherSettings): void {
      watcher.reconfigure(settings)
    },

    /** No new watch from now on: a re-watch under way ends first, then the watcher closes. */
    async close (): Promise<void> {
      stopping = true
      await rewatching
      await watcher.close()
    },
  }
}
