import { readdirSync, watch as fsWatch, type Stats } from 'node:fs'
import { readdir } from 'node:fs/promises'
import type parcel from '@parcel/watcher'
import type { Logger } from 'pino'
import path from 'node:path'
import { errnoOf } from './parcel-api.js'
import type { Change } from './watcher.js'

/** A watch of one directory: libuv's inotify, on this thread's event loop. `name` is null where the kernel gave none. */
export type WatchDirectory = (dir: string, listener: (type: 'rename' | 'change', name: string | null) => void) => { close (): void }

/** The queue the events of these watches come through: one inotify instance, read in order. */
export const SUBTREE_QUEUE = 'subtrees'

export interface SubtreeWatchesOptions {
  /** Events of these watches, as parcel reports them (absolute paths), a batch per event-loop turn, in order. */
  onEvents: (events: parcel.Event[]) => void
  /** lstat of absolute paths, undefined where none (the watcher's own: see ParcelWatcherOptions.lstatMany). */
  lookUp: (paths: readonly string[]) => Promise<Array<Stats | undefined>>
  /** An absolute path relative to the root, `/`-separated; null outside it. */
  relative: (abs: string) => string | null
  report: (changes: Change[]) => void
  /** Events may have been lost: the watch limit. */
  degrade: (err: unknown, where: string) => void
  /** A directory left unwatched on purpose, and everything below it. */
  skip: (abs: string) => boolean
  logger: Logger
  /** A seam for tests; production uses node:fs watch. */
  watchDirectory?: WatchDirectory
}

/**
 * parcel's inotify backend watches a new directory but never scans it, so
 * the subdirectories of a tree that appears at once (`mkdir -p`, `mv` of a
 * populated tree) would stay unwatched. Each of them gets a watch of this
 * thread's own (node:fs, one inotify watch per directory), and the tree is
 * reported again once they all exist, so rsync recurses over it after every
 * directory in it is watched. The backend also drops a failed watch on a
 * new directory without a word; a probe watch on each new directory turns
 * the watch limit into `degraded` instead.
 *
 * Not parcel subscriptions of their own, as before: a parcel subscription
 * that fails (a directory of its tree removed during its crawl, common in
 * such trees) drops its JavaScript callback on a libuv thread, and V8's
 * handles are not thread-safe. A mesh node under churn died of it ("Check
 * failed: node->IsInUse()"); a loop of failing subscriptions beside fs
 * promises does it within seconds. After the start, nothing subscribes.
 */
export function createSubtreeWatches (opts: SubtreeWatchesOptions) {
  const { onEvents, lookUp, relative, report, degrade, skip, logger } = opts
  const watchDirectory = opts.watchDirectory ?? watchWithNode(logger)
  const watches = new Map<string, { close (): void }>()
  /** The watched directories of each directory: what a deletion ends. */
  const kids = new Map<string, Set<string>>()
  /** Paths events named since the last batch: true while only contents changed. */
  let pending = new Map<string, boolean>()
  /** Batches go out one after another: a barrier's sentinel counts only once what came before it went. */
  let delivering = Promise.resolve()
  let closed = false

  const deliver = (): void => {
    const batch = pending
    pending = new Map()
    const paths = [...batch.keys()]
    delivering = delivering.then(async () => {
      const stats = await lookUp(paths)
      if (closed) return
      onEvents(paths.map((abs, i) => ({ path: abs, type: stats[i] === undefined ? 'delete' : batch.get(abs) === true ? 'update' : 'create' })))
    })
  }

  const watchOne = (dir: string): boolean => {
    if (watches.has(dir)) return true
    try {
      watches.set(dir, watchDirectory(dir, (type, name) => {
        // A name-less event is the directory's own (deleted, moved): its parent's watch reports that.
        if (name === null || closed) return
        const abs = path.join(dir, name)
        if (pending.size === 0) setImmediate(deliver)
        pending.set(abs, (pending.get(abs) ?? true) && type === 'change')
      }))
    } catch (err) {
      if (errnoOf(err) === 'ENOSPC') degrade(err, dir)
      // Gone meanwhile: its parent's watch reports that.
      return false
    }
    const parent = path.dirname(dir)
    let set = kids.get(parent)
    if (set === undefined) kids.set(parent, set = new Set())
    set.add(dir)
    return true
  }

  /** Watches every directory in the tree at `abs` (itself too where `self`); reports the tree again once they are. */
  function watchTree (abs: string, self: boolean): void {
    if (closed) return
    let watched = 0
    const stack = [abs]
    while (stack.length > 0) {
      const dir = stack.pop()!
      if (skip(dir)) continue
      if (dir !== abs || self) {
        if (!watchOne(dir)) continue
        watched++
      }
      let entries
      try {
        entries = readdirSync(dir, { withFileTypes: true })
      } catch {
        continue
      }
      for (const e of entries) if (e.isDirectory()) stack.push(path.join(dir, e.name))
    }
    // Whatever was written before these watches existed goes out with this.
    const rel = relative(abs)
    if (watched > 0 && rel !== null && rel !== '') report([{ path: rel, kind: 'add' }])
  }

  /** `abs` was deleted: the watches of it and of directories under it end. */
  function drop (abs: string): void {
    if (watches.size === 0) return
    const siblings = kids.get(path.dirname(abs))
    if (siblings?.delete(abs) === true && siblings.size === 0) kids.delete(path.dirname(abs))
    const stack = [abs]
    while (stack.length > 0) {
      const dir = stack.pop()!
      watches.get(dir)?.close()
      watches.delete(dir)
      const below = kids.get(dir)
      if (below === undefined) continue
      kids.delete(dir)
      stack.push(...below)
    }
  }

  return {
    /** A new directory: watched itself where only these watches cover its parent; else a probe watch for the limit, and its subdirectories watched. */
    async inspect (abs: string): Promise<void> {
      if (watches.has(path.dirname(abs))) return watchTree(abs, true)
      try {
        fsWatch(abs).close()
      } catch (err) {
        if (errnoOf(err) === 'ENOSPC') degrade(err, abs)
        return
      }
      const entries = await readdir(abs, { withFileTypes: true }).catch(() => [])
      if (entries.some((e) => e.isDirectory())) watchTree(abs, false)
    },

    drop,

    /** `abs` lost its watch: watched again, with everything below it. */
    rewatch (abs: string): void {
      drop(abs)
      watchTree(abs, true)
    },

    /** The directory a barrier's sentinel goes into for these watches' queue; undefined with none. */
    sentinelDir (): string | undefined {
      return watches.keys().next().value
    },

    /** Every watch ends. */
    close (): void {
      closed = true
      for (const w of watches.values()) w.close()
      watches.clear()
      kids.clear()
    },
  }
}

/** node:fs watch: its failures after the start (the directory gone, mostly) end that watch only. */
function watchWithNode (logger: Logger): WatchDirectory {
  return (dir, listener) => {
    const w = fsWatch(dir, { persistent: false, encoding: 'utf8' }, (type, name) => listener(type, name))
    w.on('error', (err) => {
      logger.debug({ err, dir }, 'a directory\'s watch failed')
      w.close()
    })
    return w
  }
}
