import { watch as fsWatch } from 'node:fs'
import { readdir } from 'node:fs/promises'
import type parcel from '@parcel/watcher'
import type { Logger } from 'pino'
import path from 'node:path'
import { errnoOf, isVanished, type Subscribe, type Subscription } from './parcel-api.js'
import type { Change } from './watcher.js'

export interface SubtreeWatchesOptions {
  subscribe: Subscribe
  parcelOptions: parcel.Options
  /** A subscription's events, with the queue they came through: its directory. */
  onEvents: (err: Error | null, events: parcel.Event[], queue: string) => void
  /** An absolute path relative to the root, `/`-separated; null outside it. */
  relative: (abs: string) => string | null
  report: (changes: Change[]) => void
  /** Events may have been lost: the watch limit, or a subscription that failed. */
  degrade: (err: unknown, where: string) => void
  /** A subscription ended with its directory: no barrier waits on its queue any more. */
  dropped: (dir: string) => void
  logger: Logger
}

/**
 * parcel's inotify backend watches a new directory but never scans it, so
 * the subdirectories of a tree that appears at once (`mkdir -p`, `mv` of a
 * populated tree) would stay unwatched. Such a directory gets a
 * subscription of its own, and is reported again once that one is
 * established, so rsync recurses over it after every directory in it is
 * watched. The backend also drops a failed watch on a new directory without
 * a word; a probe watch on each new directory turns the watch limit into
 * `degraded` instead.
 */
export function createSubtreeWatches (opts: SubtreeWatchesOptions) {
  const { subscribe, parcelOptions, onEvents, relative, report, degrade, dropped, logger } = opts
  /** Directories with a subscription of their own, by absolute path; undefined while subscribing. */
  const subtrees = new Map<string, Subscription | undefined>()
  /** Subscriptions under way, each settled once it reported its directory (see settled). */
  const subscribing = new Set<Promise<void>>()
  let closed = false

  /**
   * parcel's unsubscribe fails with EINVAL when a directory under the
   * subscription was removed and the kernel dropped its watch before
   * parcel read the event (parcel-bundler/watcher#129); the subscription is
   * gone all the same. Never left unhandled: that ended the process in CI.
   */
  const unsubscribe = (sub: Subscription, dir: string): void => {
    sub.unsubscribe().catch((err: unknown) => logger.debug({ err, dir }, 'unsubscribing a directory\'s watch failed'))
  }

  const watchSubtree = (abs: string): void => {
    if (subtrees.has(abs) || closed) return
    subtrees.set(abs, undefined)
    const subscribed = subscribe(abs, (err, events) => onEvents(err, events, abs), parcelOptions).then((sub) => {
      if (closed || !subtrees.has(abs)) {
        unsubscribe(sub, abs)
        return
      }
      subtrees.set(abs, sub)
      // Whatever was written before these watches existed goes out with this.
      const rel = relative(abs)
      if (rel !== null && rel !== '') report([{ path: rel, kind: 'add' }])
    }, (err: unknown) => {
      subtrees.delete(abs)
      // Gone (subscribeSteadily tried again while it was there): nothing left to watch.
      if (isVanished(err)) return
      degrade(err, abs)
    }).finally(() => subscribing.delete(subscribed))
    subscribing.add(subscribed)
  }

  /** `abs` was deleted: the subscriptions of it and of directories under it end. */
  function drop (abs: string): void {
    if (subtrees.size === 0) return
    const prefix = abs + path.sep
    for (const [dir, sub] of subtrees) {
      if (dir !== abs && !dir.startsWith(prefix)) continue
      subtrees.delete(dir)
      dropped(dir)
      if (sub !== undefined) unsubscribe(sub, dir)
    }
  }

  return {
    /** A new directory: a probe watch for the limit, and a subscription of its own when it has subdirectories. */
    async inspect (abs: string): Promise<void> {
      try {
        fsWatch(abs).close()
      } catch (err) {
        if (errnoOf(err) === 'ENOSPC') degrade(err, abs)
        return
      }
      const entries = await readdir(abs, { withFileTypes: true }).catch(() => [])
      if (entries.some((e) => e.isDirectory())) watchSubtree(abs)
    },

    drop,

    /** `abs` lost its watch: a subscription of its own again, in place of any it had (which lost its watch too). */
    rewatch (abs: string): void {
      drop(abs)
      watchSubtree(abs)
    },

    /** The directories whose subscription is established: each a queue a barrier's sentinel goes through. */
    established (): string[] {
      return [...subtrees].filter(([, sub]) => sub !== undefined).map(([dir]) => dir)
    },

    /** Resolves once every subscription under way now has reported its directory (or failed). */
    settled (): Promise<unknown> {
      return Promise.all([...subscribing])
    },

    /** No more subscriptions; returns the established ones, for the caller to end. */
    close (): Subscription[] {
      closed = true
      const subs = [...subtrees.values()].filter((s) => s !== undefined)
      subtrees.clear()
      return subs
    },
  }
}
