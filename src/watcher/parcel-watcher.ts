import path from 'node:path'
import { watch as fsWatch } from 'node:fs'
import { readdir } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import type parcel from '@parcel/watcher'
import type { Logger } from 'pino'
import { InternalError } from '../errors.js'
import { compileExcludes, isRsyncTempName, type ExcludeMatcher } from './exclude-matcher.js'
import { createSentinelRounds, isSentinelName, removeStaleSentinels } from './flush-sentinel.js'
import { lstatMany } from './lstat-many.js'
import type { Change, ChangeKind, Watcher, WatcherSink, WatcherStatus } from './watcher.js'
import { watchLimitMessage } from './watch-limit.js'

type Subscribe = typeof parcel.subscribe
type Subscription = Awaited<ReturnType<Subscribe>>

export interface ParcelWatcherOptions {
  root: string
  isExcluded: ExcludeMatcher
  sink: WatcherSink
  logger: Logger
  /** A seam for tests; production uses @parcel/watcher's own. */
  subscribe?: Subscribe
  /** lstat of absolute paths, undefined where none; libuv's pool by default, a thread of its own may block instead. */
  lstatMany?: (paths: readonly string[]) => Promise<Array<Stats | undefined>>
}

/** A directory reported as updated that was born this recently was replaced, not modified. */
const MADE_AGAIN_MS = 10_000

const KIND: Record<parcel.EventType, ChangeKind> = { create: 'add', update: 'change', delete: 'unlink' }

/** The native backend of each platform; left to parcel elsewhere. Never watchman: one more daemon to fail. */
const NATIVE_BACKEND: Partial<Record<NodeJS.Platform, parcel.BackendType>> = {
  linux: 'inotify',
  darwin: 'fs-events',
  win32: 'windows',
}

const errnoOf = (err: unknown): string | undefined => {
  const e = err as NodeJS.ErrnoException
  if (typeof e?.code === 'string') return e.code
  // parcel's native errors carry strerror text, not a code.
  if (/No space left on device/i.test(e?.message ?? '')) return 'ENOSPC'
  if (/No such file or directory/i.test(e?.message ?? '')) return 'ENOENT'
  if (/Not a directory/i.test(e?.message ?? '')) return 'ENOTDIR'
  return undefined
}

/**
 * @parcel/watcher: one inotify watch per directory, events read and batched
 * on a native thread, so a busy event loop cannot overflow the kernel queue.
 *
 * Its inotify backend watches a new directory but never scans it, so the
 * subdirectories of a tree that appears at once (`mkdir -p`, `mv` of a
 * populated tree) would stay unwatched. Such a directory gets a subscription
 * of its own, and is reported again once that one is established, so rsync
 * recurses over it after every directory in it is watched. The backend also
 * drops a failed watch on a new directory without a word; a probe watch on
 * each new directory turns the watch limit into `degraded` instead.
 *
 * The root is subscribed twice. @parcel/watcher 2.6 hands a batch to
 * JavaScript and then clears its list in two steps; an event the native
 * thread adds in between is dropped (measured: a few in 30,000 files written
 * at 500/s). Each subscription has its own list, and losing the same event
 * from both needs both windows to catch it.
 *
 * A flush barrier's sentinel goes into the root and into the directory of
 * every subscription of its own: all share parcel's one inotify queue, but
 * each hands its events over through a list and a callback queue of its
 * own, unordered relative to the others, and either root list may lose the
 * sentinel's event (it is touched again until each reports it).
 */
export function createParcelWatcher (opts: ParcelWatcherOptions): Watcher {
  const { root, sink, logger } = opts
  let { isExcluded } = opts
  // The addon is loaded on start, not on import: it loads in one thread per
  // process, and importing this module must not claim it (see parcel-thread.ts).
  let subscribe: Subscribe = opts.subscribe ?? ((...args) => import('@parcel/watcher').then((m) => {
    subscribe = m.default.subscribe
    return subscribe(...args)
  }))
  const lookUp = opts.lstatMany ?? ((paths: readonly string[]) => lstatMany('', paths))
  const parcelOpts: parcel.Options = { backend: NATIVE_BACKEND[process.platform] }
  let status: WatcherStatus = { state: 'starting', lastError: null }
  let closed = false
  let rootSubs: Subscription[] = []
  /**
   * New entries queued for a look in the last 2 to 4 s, with when, so each
   * is looked at once; and deletions over the same span. An entry made
   * again after it or a directory above it went away (`mv` reports only the
   * top of a tree) is new again and is looked at again.
   */
  let queuedRecently = new Map<string, number>()
  let queuedBefore = new Map<string, number>()
  let deletedRecently = new Map<string, number>()
  let deletedBefore = new Map<string, number>()
  let rotatedAt = Date.now()
  const rotate = (at: number): void => {
    if (at - rotatedAt <= 2_000) return
    queuedBefore = queuedRecently
    queuedRecently = new Map()
    deletedBefore = deletedRecently
    deletedRecently = new Map()
    rotatedAt = at
  }
  const deletedSince = (abs: string, since: number): boolean => {
    for (let p = abs; p.length > rootPrefix.length; p = path.dirname(p)) {
      if ((deletedRecently.get(p) ?? deletedBefore.get(p) ?? -1) >= since) return true
    }
    return false
  }
  const firstReport = (abs: string): boolean => {
    const at = Date.now()
    rotate(at)
    const queuedAt = queuedRecently.get(abs) ?? queuedBefore.get(abs)
    if (queuedAt !== undefined && !deletedSince(abs, queuedAt)) return false
    queuedRecently.set(abs, at)
    return true
  }
  const forget = (abs: string): void => {
    const at = Date.now()
    rotate(at)
    deletedRecently.set(abs, at)
  }
  /** Directories with a subscription of their own, by absolute path; undefined while subscribing. */
  const subtrees = new Map<string, Subscription | undefined>()
  /** Subscriptions under way, each settled once it reported its directory (see barrier). */
  const subscribing = new Set<Promise<void>>()
  const rounds = createSentinelRounds(logger)

  // parcel reports normalized absolute paths under the root; path.relative
  // would normalize both again, and a burst brings tens of thousands.
  const rootPrefix = root.endsWith(path.sep) ? root : root + path.sep
  const relative = (abs: string): string | null => {
    if (abs === root) return ''
    if (!abs.startsWith(rootPrefix)) return null
    const rel = abs.slice(rootPrefix.length)
    return path.sep === '/' ? rel : rel.split(path.sep).join('/')
  }

  const degrade = (err: unknown, where: string): void => {
    const code = errnoOf(err)
    const message = code === 'ENOSPC'
      ? watchLimitMessage(`${where}: ${(err as Error).message}`)
      : `watcher error at ${where}: ${(err as Error)?.message ?? String(err)}`
    status = { state: status.state === 'starting' ? 'starting' : 'degraded', lastError: message }
    logger.error({ err, code, where }, 'watcher error; events may have been missed')
    sink.onDegraded(message)
  }

  const report = (changes: Change[]): void => {
    if (changes.length > 0 && !closed) sink.onChanges(changes)
  }

  const dropSubtrees = (abs: string): void => {
    const prefix = abs + path.sep
    for (const [dir, sub] of subtrees) {
      if (dir !== abs && !dir.startsWith(prefix)) continue
      subtrees.delete(dir)
      rounds.drop(dir)
      sub?.unsubscribe().catch((err: unknown) => logger.debug({ err, dir }, 'unsubscribing a removed directory failed'))
    }
  }

  const watchSubtree = (abs: string): void => {
    if (subtrees.has(abs) || closed) return
    subtrees.set(abs, undefined)
    const subscribed = subscribe(abs, (err, events) => onEvents(err, events, null, abs), parcelOpts).then((sub) => {
      if (closed || !subtrees.has(abs)) {
        void sub.unsubscribe()
        return
      }
      subtrees.set(abs, sub)
      // Whatever was written before these watches existed goes out with this.
      const rel = relative(abs)
      if (rel !== null && rel !== '') report([{ path: rel, kind: 'add' }])
    }, (err: unknown) => {
      subtrees.delete(abs)
      const code = errnoOf(err)
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      degrade(err, abs)
    }).finally(() => subscribing.delete(subscribed))
    subscribing.add(subscribed)
  }

  const inspectNewDirectory = async (abs: string): Promise<void> => {
    try {
      fsWatch(abs).close()
    } catch (err) {
      if (errnoOf(err) === 'ENOSPC') degrade(err, abs)
      return
    }
    const entries = await readdir(abs, { withFileTypes: true }).catch(() => [])
    if (entries.some((e) => e.isDirectory())) watchSubtree(abs)
  }

  // A burst reports thousands of new entries at once: they are looked up a
  // slice at a time, and the few directories among them inspected a few at
  // a time, so neither the event loop nor libuv's threads are swamped.
  let toInspect: string[] = []
  /** Queued for an `update`: among them, only a directory made just now is new. */
  const updatedOnly = new Set<string>()
  let inspecting = false
  /** Entries ever queued for a look, and looked at (in order): what a barrier waits on. */
  let inspectQueued = 0
  let inspectDone = 0
  let inspectWaiters: Array<{ upTo: number; resolve: () => void }> = []
  const inspectNext = (): void => {
    if (inspecting || toInspect.length === 0 || closed) return
    inspecting = true
    const slice = toInspect.length <= 2_000 ? toInspect : toInspect.slice(0, 2_000)
    toInspect = toInspect.length <= 2_000 ? [] : toInspect.slice(2_000)
    void inspectSlice(slice).finally(() => {
      inspecting = false
      inspectDone += slice.length
      const due = inspectWaiters.filter((w) => w.upTo <= inspectDone)
      inspectWaiters = inspectWaiters.filter((w) => w.upTo > inspectDone)
      for (const w of due) w.resolve()
      inspectNext()
    })
  }
  /**
   * A new tree whose subdirectories the root does not watch gets a
   * subscription of its own, which reports the tree again once it is
   * established: a barrier waits for that, for what was reported before it.
   */
  const inspectionsSettled = async (): Promise<void> => {
    const upTo = inspectQueued
    if (inspectDone < upTo && !closed) await new Promise<void>((resolve) => inspectWaiters.push({ upTo, resolve }))
    await Promise.all([...subscribing])
  }
  const inspectSlice = async (slice: string[]): Promise<void> => {
    const stats = await lookUp(slice)
    const dirs = slice.filter((abs, i) => {
      const wasUpdate = updatedOnly.delete(abs)
      const st = stats[i]
      if (st?.isDirectory() !== true) return false
      // Where the filesystem keeps no birth time (0), a replaced directory
      // still has a fresh mtime, and a chmod leaves it old.
      return !wasUpdate || Date.now() - (st.birthtimeMs || st.mtimeMs) < MADE_AGAIN_MS
    })
    for (let i = 0; i < dirs.length && !closed; i += 32) await Promise.all(dirs.slice(i, i + 32).map(inspectNewDirectory))
  }

  /**
   * Deliveries waiting to be handled, which root subscription made each (for
   * twins) and which queue (for barriers); a big one is handled a slice per
   * event-loop turn. `sentinels`: the ones it carried, seen once all of it is.
   */
  const deliveries: Array<{ events: parcel.Event[]; from: 0 | 1 | null; queue: string; sentinels: string[] }> = []
  let handling = false

  function onEvents (err: Error | null, events: parcel.Event[], from: 0 | 1 | null, queue: string): void {
    if (closed) return
    if (err) degrade(err, root)
    deliveries.push({ events, from, queue, sentinels: [] })
    if (!handling) handleSome()
  }

  // Both root subscriptions report every event, within microseconds of each
  // other. Handling both would send each change twice, and an incremental
  // run re-sends whole files (--ignore-times): a twin is dropped when the
  // other subscription reported the same event in the last second or two.
  // One subscription losing an event in the race leaves it unmatched, so
  // the other's copy still counts.
  let unmatched: [Map<string, number>, Map<string, number>] = [new Map(), new Map()]
  let unmatchedBefore: [Map<string, number>, Map<string, number>] = [new Map(), new Map()]
  let unmatchedSince = Date.now()
  const isTwin = (e: parcel.Event, from: 0 | 1 | null): boolean => {
    if (from === null) return false
    const at = Date.now()
    if (at - unmatchedSince > 1_000) {
      unmatchedBefore = unmatched
      unmatched = [new Map(), new Map()]
      unmatchedSince = at
    }
    const key = `${e.type}\0${e.path}`
    const other = 1 - from
    for (const generation of [unmatched, unmatchedBefore]) {
      const n = generation[other]!.get(key)
      if (n === undefined) continue
      if (n > 1) generation[other]!.set(key, n - 1)
      else generation[other]!.delete(key)
      return true
    }
    unmatched[from].set(key, (unmatched[from].get(key) ?? 0) + 1)
    return false
  }

  function handleSome (): void {
    handling = true
    const changes: Change[] = []
    // parcel orders a delivery by path, not by time: its sentinel counts once all of it went out.
    const seen: Array<{ queue: string; name: string }> = []
    while (deliveries.length > 0 && changes.length < 2_000) {
      const { events, from, queue, sentinels } = deliveries[0]!
      const whole = events.length <= 2_000
      const slice = whole ? deliveries.shift()!.events : events.splice(0, 2_000)
      for (const e of slice) {
        // Before twins and excludes: every queue must report it, whatever the user excludes.
        if (isSentinelName(path.basename(e.path))) {
          sentinels.push(path.basename(e.path))
          continue
        }
        if (isTwin(e, from)) continue
        const rel = relative(e.path)
        if (rel === null) continue
        if (rel === '') {
          if (e.type === 'delete') degrade(new InternalError('SP_SOURCE_ROOT_GONE', 'the source directory was removed or moved away'), root)
          continue
        }
        if (isRsyncTempName(path.basename(e.path)) || isExcluded(rel, undefined)) continue
        changes.push({ path: rel, kind: KIND[e.type] })
        // parcel merges a delete and a create of one path within a batch into
        // an update: a directory replaced that way is as new as a created one.
        if ((e.type === 'create' || e.type === 'update') && firstReport(e.path)) {
          if (e.type === 'update') updatedOnly.add(e.path)
          toInspect.push(e.path)
          inspectQueued++
        } else if (e.type === 'delete') {
          forget(e.path)
          if (subtrees.size > 0) dropSubtrees(e.path)
        }
      }
      if (whole) for (const name of sentinels) seen.push({ queue, name })
    }
    report(changes)
    for (const s of seen) rounds.seen(s.queue, s.name)
    inspectNext()
    if (deliveries.length > 0) setImmediate(handleSome)
    else handling = false
  }

  return {
    async start () {
      try {
        // A second subscription needs other options to get a list of its own: ignoring a name nobody uses.
        const shadow = { ...parcelOpts, ignore: [path.join(root, '.syncplane-shadow-subscription')] }
        // One at a time into the list, so that close() after a failed start
        // ends the one that succeeded (left behind, it keeps the process alive).
        rootSubs = []
        rootSubs.push(await subscribe(root, (err, events) => onEvents(err, events, 0, 'root:0'), parcelOpts))
        rootSubs.push(await subscribe(root, (err, events) => onEvents(err, events, 1, 'root:1'), shadow))
        await removeStaleSentinels(root)
        status = { state: status.lastError === null ? 'running' : 'degraded', lastError: status.lastError }
      } catch (err) {
        if (errnoOf(err) !== 'ENOSPC') throw err
        // Nothing is watched: only full mirrors (now, periodic) keep targets right.
        status = { state: 'degraded', lastError: watchLimitMessage((err as Error).message) }
        logger.error({ err }, 'watcher could not be established; events will be missed')
        sink.onDegraded(status.lastError!)
      }
      logger.info({ root, backend: 'parcel', state: status.state }, 'watching')
    },

    status () {
      return status
    },

    barrier (signal) {
      if (closed) return Promise.resolve()
      const queues = new Map(rootSubs.map((_, i) => [`root:${i}`, root]))
      for (const [dir, sub] of subtrees) if (sub !== undefined) queues.set(dir, dir)
      return rounds.run({ queues, signal, settled: inspectionsSettled })
    },

    reconfigure ({ excludes }) {
      // A directory created under a pattern dropped now got no subscription of
      // its own when it appeared: a tree made at once there is watched in part
      // until a restart (the mirror a dropped pattern brings copies its files).
      isExcluded = compileExcludes(excludes)
    },

    async close () {
      closed = true
      rounds.close()
      for (const w of inspectWaiters) w.resolve()
      inspectWaiters = []
      status = { ...status, state: 'stopped' }
      const subs = [...rootSubs, ...subtrees.values()].filter((s) => s !== undefined)
      subtrees.clear()
      await Promise.all(subs.map((s) => s.unsubscribe().catch(() => undefined)))
    },
  }
}
