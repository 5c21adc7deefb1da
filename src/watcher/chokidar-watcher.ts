import path from 'node:path'
import type { Stats } from 'node:fs'
import { watch, type FSWatcher } from 'chokidar'
import type { Logger } from 'pino'
import { compileExcludes, isRsyncTempName, type ExcludeMatcher } from './exclude-matcher.js'
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

export function createChokidarWatcher (opts: ChokidarWatcherOptions): Watcher {
  const { root, sink, logger } = opts
  let { isExcluded } = opts
  let status: WatcherStatus = { state: 'starting', lastError: null }
  let fsWatcher: FSWatcher | undefined
  let buffer: Change[] = []
  let flushScheduled = false

  const relative = (abs: string): string => path.relative(root, abs).split(path.sep).join('/')

  const ignored = (abs: string, stats?: Stats): boolean => {
    const rel = relative(abs)
    if (rel === '' || rel.startsWith('..')) return false
    if (isRsyncTempName(path.basename(abs))) return true
    return isExcluded(rel, stats?.isDirectory())
  }

  const flush = (): void => {
    flushScheduled = false
    const changes = buffer
    buffer = []
    if (changes.length > 0) sink.onChanges(changes)
  }

  const push = (kind: ChangeKind, abs: string): void => {
    const rel = relative(abs)
    if (rel === '' || rel.startsWith('..')) return
    buffer.push({ path: rel, kind })
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
  }

  const rawPath = (abs: string): void => {
    if (!ignored(abs)) push('rename', abs)
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
          if (event !== 'rename' || !name || watched === undefined) return
          // A file's own watch reports its basename; a directory's names the entry.
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

    reconfigure ({ excludes }) {
      // chokidar does not descend into what it ignored: a directory excluded
      // until now is watched only after a restart (the mirror a dropped
      // pattern brings, and the periodic ones, copy its files meanwhile).
      isExcluded = compileExcludes(excludes)
    },

    async close () {
      status = { ...status, state: 'stopped' }
      await fsWatcher?.close()
      flush()
    },
  }
}
