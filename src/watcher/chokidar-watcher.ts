import path from 'node:path'
import type { Stats } from 'node:fs'
import { watch, type FSWatcher } from 'chokidar'
import type { Logger } from 'pino'
import { compileExcludes, isRsyncTempName, type ExcludeMatcher } from './exclude-matcher.js'
import { createSentinelRounds, isSentinelName, removeStaleSentinels } from './flush-sentinel.js'
import type { Change, ChangeKind, Watcher, WatcherSink, WatcherStatus } from './watcher.js'
import { watchLimitMessage } from './watch-limit.js'

export interface ChokidarWatcherOptions {
  root: string
  isExcluded: ExcludeMatcher
  usePolling: boolean
  pollIntervalMs: number
  sink: WatcherSink
  logger: Logger
}

/** Paths the kernel reported changed that chokidar has not reported yet are kept this long at most (it may never: an atime-only change). */
const UNCONFIRMED_MS = 10_000

/**
 * A flush barrier, without polling: libuv reads one inotify queue for every
 * watch of the loop and hands each event to the `raw` listener at once, in
 * the kernel's order, so the sentinel's raw event comes after every earlier
 * one. Creations, deletions and moves are reported from raw events anyway;
 * a modification is reported by chokidar only after a stat, so the paths of
 * raw modifications chokidar has not reported yet go out with the sentinel.
 * With polling there is no queue: the barrier waits for the sentinel and two
 * poll intervals, a good guess rather than a guarantee.
 */
export function createChokidarWatcher (opts: ChokidarWatcherOptions): Watcher {
  const { root, sink, logger } = opts
  let { isExcluded } = opts
  let status: WatcherStatus = { state: 'starting', lastError: null }
  let fsWatcher: FSWatcher | undefined
  let buffer: Change[] = []
  let flushScheduled = false
  const rounds = createSentinelRounds(logger)
  /** Raw modifications chokidar has not reported yet: absolute path → when, in two generations (see UNCONFIRMED_MS). */
  let unconfirmed = new Map<string, number>()
  let unconfirmedBefore = new Map<string, number>()
  let unconfirmedSince = Date.now()

  const relative = (abs: string): string => path.relative(root, abs).split(path.sep).join('/')

  const ignored = (abs: string, stats?: Stats): boolean => {
    const rel = relative(abs)
    if (rel === '' || rel.startsWith('..')) return false
    // Raw events carry a sentinel; only a poller must list it to see it.
    if (isSentinelName(path.basename(abs))) return !opts.usePolling
    if (isRsyncTempName(path.basename(abs))) return true
    return isExcluded(rel, stats?.isDirectory())
  }

  const flush = (): void => {
    flushScheduled = false
    const changes = buffer
    buffer = []
    if (changes.length > 0) sink.onChanges(changes)
  }

  /** Every change reported before the sentinel goes to the sink now, then the barrier learns it was seen. */
  const sentinelSeen = (name: string): void => {
    const since = Date.now() - UNCONFIRMED_MS
    for (const generation of [unconfirmedBefore, unconfirmed]) {
      for (const [abs, at] of generation) if (at >= since && abs !== root && !ignored(abs)) buffer.push({ path: relative(abs), kind: 'change' })
      generation.clear()
    }
    flush()
    rounds.seen('root', name)
  }

  const push = (kind: ChangeKind, abs: string): void => {
    if (isSentinelName(path.basename(abs))) return sentinelSeen(path.basename(abs))
    const rel = relative(abs)
    if (rel === '' || rel.startsWith('..')) return
    unconfirmed.delete(abs)
    unconfirmedBefore.delete(abs)
    buffer.push({ path: rel, kind })
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
  }

  const rawPath = (abs: string): void => {
    if (!ignored(abs)) push('rename', abs)
  }

  const rawChange = (abs: string): void => {
    const at = Date.now()
    if (at - unconfirmedSince > UNCONFIRMED_MS / 2) {
      unconfirmedBefore = unconfirmed
      unconfirmed = new Map()
      unconfirmedSince = at
    }
    unconfirmed.set(abs, at)
  }

  const degrade = (err: NodeJS.ErrnoException): void => {
    const message = err.code === 'ENOSPC'
      ? watchLimitMessage(err.message)
      : `watcher error: ${err.message}`
    status = { state: status.state === 'starting' ? 'starting' : 'degraded', lastError: message }
    logger.error({ err, code: err.code }, 'watcher error; events may have been missed')
    sink.onDegraded(message)
  }

  return {
    start () {
      return new Promise((resolve, reject) => {
        let settled = false
        fsWatcher = watch(root, {
          ignoreInitial: true,
          // rsync -a copies links as links; following them could leave the source tree.
          followSymlinks: false,
          // `atomic` silently drops names like `x~` and `.x.swp` and delays deletes; we batch anyway.
          atomic: false,
          awaitWriteFinish: false,
          usePolling: opts.usePolling,
          interval: opts.pollIntervalMs,
          binaryInterval: opts.pollIntervalMs,
          ignored,
        })
        for (const kind of ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const) {
          fsWatcher.on(kind, (abs: string) => push(kind, abs))
        }
        // chokidar drops entries it cannot stat (a dangling symlink, a file
        // gone again before its stat). The kernel's own create/delete/move
        // notice still names them; an extra path costs nothing, since a batch
        // sends what exists and deletes what does not.
        fsWatcher.on('raw', (event, name, details) => {
          const watched = (details as { watchedPath?: string } | undefined)?.watchedPath
          if (!name || watched === undefined) return
          if (isSentinelName(name)) return sentinelSeen(name)
          if (event === 'change') {
            // A file's own watch reports its basename; a directory's names the entry (reported by both).
            rawChange(path.basename(watched) === name ? watched : path.join(watched, name))
            return
          }
          if (event !== 'rename') return
          if (path.basename(watched) === name) rawPath(watched)
          rawPath(path.join(watched, name))
        })
        fsWatcher.on('error', (err) => {
          degrade(err as NodeJS.ErrnoException)
          if (!settled && status.state === 'starting' && (err as NodeJS.ErrnoException).code !== 'ENOSPC') {
            settled = true
            reject(err)
          }
        })
        fsWatcher.on('ready', () => {
          void removeStaleSentinels(root)
          status = { state: status.lastError === null ? 'running' : 'degraded', lastError: status.lastError }
          logger.info({ root, backend: 'chokidar', state: status.state }, 'watching')
          if (!settled) {
            settled = true
            resolve()
          }
        })
      })
    },

    status () {
      return status
    },

    barrier (signal) {
      if (fsWatcher === undefined || status.state === 'stopped') return Promise.resolve()
      return rounds.run({ queues: new Map([['root', root]]), signal, minWaitMs: opts.usePolling ? 2 * opts.pollIntervalMs : 0 })
    },

    reconfigure ({ excludes }) {
      // chokidar does not descend into what it ignored: a directory excluded
      // until now is watched only after a restart (the mirror a dropped
      // pattern brings, and the periodic ones, copy its files meanwhile).
      isExcluded = compileExcludes(excludes)
    },

    async close () {
      status = { ...status, state: 'stopped' }
      rounds.close()
      await fsWatcher?.close()
      flush()
    },
  }
}
