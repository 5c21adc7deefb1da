import path from 'node:path'
import type { Stats } from 'node:fs'
import { setImmediate as yieldTurn } from 'node:timers/promises'
import type parcel from '@parcel/watcher'
import type { Logger } from 'pino'
import { InternalError } from '../errors.js'
import { compileExcludes, isRsyncTempName, type ExcludeMatcher } from './exclude-matcher.js'
import { createSentinelRounds, isSentinelName, removeStaleSentinels } from './flush-sentinel.js'
import { createInspectQueue } from './inspect-queue.js'
import { lstatMany } from './lstat-many.js'
import { errnoOf, NATIVE_BACKEND, subscribeSteadily, type Subscribe, type Subscription } from './parcel-api.js'
import { createRecentEntries } from './recent-entries.js'
import { createSubtreeWatches, SUBTREE_QUEUE, type WatchDirectory } from './subtree-watches.js'
import { createTwinFilter, type RootSubscription } from './twin-filter.js'
import type { Change, ChangeKind, Watcher, WatchCheck, WatcherSink, WatcherStatus } from './watcher.js'
import { watchLimitMessage } from './watch-limit.js'
import { createWatchAudit } from './watch-audit.js'
import { watchedInodes } from './watched-inodes.js'

export interface ParcelWatcherOptions {
  root: string
  isExcluded: ExcludeMatcher
  sink: WatcherSink
  logger: Logger
  /**
   * Directories below the root (relative) that get no inotify watch at all,
   * for a directory that never changes at runtime: the mesh's own, whose
   * staging traffic is half of a receiver's writes.
   */
  unwatched?: readonly string[]
  /** A seam for tests; production uses @parcel/watcher's own. */
  subscribe?: Subscribe
  /** A seam for tests: the watch of one directory below a new tree (see subtree-watches.ts); production uses node:fs watch. */
  watchDirectory?: WatchDirectory
  /** lstat of absolute paths, undefined where none; libuv's pool by default, a thread of its own may block instead. */
  lstatMany?: (paths: readonly string[]) => Promise<Array<Stats | undefined>>
}

const KIND: Record<parcel.EventType, ChangeKind> = { create: 'add', update: 'change', delete: 'unlink' }

/** Events handled in one event-loop turn; a bigger delivery waits for the next turns. */
const SLICE = 2_000
/** A check of the watches gives the event loop back after about this long (a deep one reads the whole tree). */
const AUDIT_SLICE_MS = 20

/**
 * @parcel/watcher: one inotify watch per directory, events read and batched
 * on a native thread, so a busy event loop cannot overflow the kernel queue.
 * The subdirectories of a new directory get watches of their own
 * (subtree-watches.ts): parcel's inotify backend never scans it.
 *
 * The root is subscribed twice. @parcel/watcher 2.6 hands a batch to
 * JavaScript and then clears its list in two steps; an event the native
 * thread adds in between is dropped (measured: a few in 30,000 files written
 * at 500/s). Each subscription has its own list, and losing the same event
 * from both needs both windows to catch it (twin-filter.ts drops the copies).
 *
 * A flush barrier's sentinel goes into the root for each subscription, and
 * into one directory the subtree watches cover: both root subscriptions
 * share parcel's one inotify queue, but each hands its events over through
 * a list and a callback queue of its own, and either list may lose the
 * sentinel's event (it is touched again until each reports it); the subtree
 * watches read an inotify queue of their own, in order.
 *
 * Nothing is handled until both root subscriptions are established: a
 * subscription that fails (tried again under churn) releases its callback
 * on a libuv thread, safe only while this thread's JavaScript is idle (see
 * subtree-watches.ts).
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
  const unwatched = (opts.unwatched ?? []).map((dir) => path.join(root, dir))
  const parcelOpts: parcel.Options = { backend: NATIVE_BACKEND[process.platform], ignore: unwatched }
  let status: WatcherStatus = { state: 'starting', lastError: null }
  let closed = false
  /** Both root subscriptions are established: deliveries are handled. */
  let subscribed = false
  let rootSubs: Subscription[] = []
  const rounds = createSentinelRounds(logger)
  const isTwin = createTwinFilter()

  // parcel reports normalized absolute paths under the root; path.relative
  // would normalize both again, and a burst brings tens of thousands.
  const rootPrefix = root.endsWith(path.sep) ? root : root + path.sep
  const relative = (abs: string): string | null => {
    if (abs === root) return ''
    if (!abs.startsWith(rootPrefix)) return null
    const rel = abs.slice(rootPrefix.length)
    return path.sep === '/' ? rel : rel.split(path.sep).join('/')
  }
  const recent = createRecentEntries(rootPrefix)

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

  const isUnwatched = (abs: string): boolean => unwatched.includes(abs)

  /** Watches again the directories among `checks` that lost their inotify watch (watch-audit.ts), a slice at a time. */
  async function audit (checks: readonly WatchCheck[]): Promise<void> {
    const watched = await watchedInodes()
    if (watched === null) return
    const walk = createWatchAudit(root, checks, isUnwatched, watched)
    const lost: string[] = []
    for (;;) {
      while (!closed && !walk.step(AUDIT_SLICE_MS)) await yieldTurn()
      if (closed || !walk.suspects()) break
      const fresh = await watchedInodes()
      if (fresh === null) break
      lost.push(...walk.settle(fresh))
    }
    // Not with the root's watches gone meanwhile (the watch limit): every directory would look lost.
    if (lost.length === 0 || closed || status.state !== 'running') return
    logger.warn({ count: lost.length, dirs: lost.slice(0, 10).map(relative) }, 'directories had lost their inotify watch: watched again, and looked at whole')
    for (const abs of lost) subtrees.rewatch(abs)
  }
  const subtrees = createSubtreeWatches({
    onEvents: (events) => onEvents(null, events, null, SUBTREE_QUEUE),
    lookUp,
    relative,
    report,
    degrade,
    skip: isUnwatched,
    logger,
    watchDirectory: opts.watchDirectory,
  })
  const inspections = createInspectQueue({ lookUp, inspectDirectory: subtrees.inspect })

  /**
   * Deliveries waiting to be handled, which root subscription made each (for
   * twins) and which queue (for barriers); a big one is handled a slice per
   * event-loop turn. `sentinels`: the ones it carried, seen once all of it is.
   */
  const deliveries: Array<{ events: parcel.Event[]; from: RootSubscription; queue: string; sentinels: string[] }> = []
  let handling = false

  function onEvents (err: Error | null, events: parcel.Event[], from: RootSubscription, queue: string): void {
    if (closed) return
    if (err) degrade(err, root)
    deliveries.push({ events, from, queue, sentinels: [] })
    if (!handling && subscribed) handleSome()
  }

  function handleSome (): void {
    handling = true
    const changes: Change[] = []
    // parcel orders a delivery by path, not by time: its sentinel counts once all of it went out.
    const seen: Array<{ queue: string; name: string }> = []
    while (deliveries.length > 0 && changes.length < SLICE) {
      const { events, from, queue, sentinels } = deliveries[0]!
      const whole = events.length <= SLICE
      const slice = whole ? deliveries.shift()!.events : events.splice(0, SLICE)
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
        if ((e.type === 'create' || e.type === 'update') && recent.firstReport(e.path)) {
          inspections.add(e.path, e.type === 'update')
        } else if (e.type === 'delete') {
          recent.forget(e.path)
          subtrees.drop(e.path)
        }
      }
      if (whole) for (const name of sentinels) seen.push({ queue, name })
    }
    report(changes)
    for (const s of seen) rounds.seen(s.queue, s.name)
    inspections.next()
    if (deliveries.length > 0) setImmediate(handleSome)
    else handling = false
  }

  const handleFromNowOn = (): void => {
    subscribed = true
    if (!handling && deliveries.length > 0) handleSome()
  }

  return {
    async start () {
      try {
        // A second subscription needs other options to get a list of its own: ignoring a name nobody uses.
        const shadow = { ...parcelOpts, ignore: [...unwatched, path.join(root, '.syncplane-shadow-subscription')] }
        // One at a time into the list, so that close() after a failed start
        // ends the one that succeeded (left behind, it keeps the process alive).
        rootSubs = []
        rootSubs.push(await subscribeSteadily(subscribe, root, (err, events) => onEvents(err, events, 0, 'root:0'), parcelOpts))
        rootSubs.push(await subscribeSteadily(subscribe, root, (err, events) => onEvents(err, events, 1, 'root:1'), shadow))
        handleFromNowOn()
        await removeStaleSentinels(root)
        status = { state: status.lastError === null ? 'running' : 'degraded', lastError: status.lastError }
      } catch (err) {
        if (errnoOf(err) !== 'ENOSPC') throw err
        handleFromNowOn()
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
      const subtreeDir = subtrees.sentinelDir()
      if (subtreeDir !== undefined) queues.set(SUBTREE_QUEUE, subtreeDir)
      // A new tree whose subdirectories the root does not watch gets watches of its own, and is reported again once
      // they exist: the barrier waits for that, for what was reported before it.
      return rounds.run({ queues, signal, settled: async () => { await inspections.looked() } })
    },

    checkWatches (checks) {
      // Not before the root's watches exist, nor without any (the watch limit): every directory would look lost.
      if (closed || status.state !== 'running') return
      audit(checks).catch((err: unknown) => logger.warn({ err }, 'checking the inotify watches failed'))
    },

    reconfigure ({ excludes }) {
      // A directory created under a pattern dropped now got no watches below
      // it when it appeared: a tree made at once there is watched in part
      // until a restart (the mirror a dropped pattern brings copies its files).
      isExcluded = compileExcludes(excludes)
    },

    async close () {
      closed = true
      rounds.close()
      inspections.close()
      status = { ...status, state: 'stopped' }
      subtrees.close()
      await Promise.all(rootSubs.map((s) => s.unsubscribe().catch(() => undefined)))
    },
  }
}
