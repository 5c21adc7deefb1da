import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { InternalError } from '../errors.js'
import type { Change, ChangeKind, Watcher, WatchCheck, WatcherSettings, WatcherSink, WatcherStatus } from './watcher.js'

export interface ParcelThreadOptions {
  root: string
  /** rsync exclude patterns; the thread compiles its own matcher (functions do not cross threads). */
  excludes: readonly string[]
  sink: WatcherSink
  logger: Logger
  /** Directories below the root that get no watch (see ParcelWatcherOptions.unwatched). */
  unwatched?: readonly string[]
  /** How much nicer than the service's thread the watcher's JavaScript thread runs (parcel's native ones keep the service's priority). */
  nice: number
  /** A seam for tests: the script the thread runs (production: parcel-thread-entry.js beside this file). */
  entry?: URL
}

/** What the watcher thread starts with. */
export interface ThreadInit extends WatcherSettings {
  root: string
  unwatched: readonly string[]
  nice: number
}

/** What the watcher thread posts. Changes come as two parallel arrays, which clone faster than an array of objects. */
export type ThreadMessage =
  | { type: 'changes'; paths: string[]; kinds: ChangeKind[] }
  | { type: 'degraded'; message: string; status: WatcherStatus }
  | { type: 'started'; status: WatcherStatus }
  /** `systemCode`: the failure's own code (ENOENT, …), where it had one. */
  | { type: 'start-failed'; message: string; systemCode: string | undefined }
  | { type: 'closed' }
  | { type: 'log'; line: string }
  /** Every change reported before this message went out before it: the barrier is passed. */
  | { type: 'barrier-passed'; id: number }
  | { type: 'restarted'; status: WatcherStatus }
  | { type: 'restart-failed'; message: string; systemCode: string | undefined }

/** What the service's thread posts to the watcher thread. */
export type ThreadRequest = 'close' | 'restart' | { type: 'barrier' | 'barrier-cancel'; id: number } | { type: 'reconfigure'; settings: WatcherSettings } | { type: 'check-watches'; checks: WatchCheck[] }

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

/** A thread that does not answer `close` in this time is stopped anyway. */
const CLOSE_TIMEOUT_MS = 5_000

/**
 * The @parcel/watcher backend on a thread of its own. Under a steady stream
 * parcel hands over an array of up to some 5,000 events every 500 ms, turned
 * into JavaScript objects in one native call, then told from their twins,
 * filtered and looked at. On the service's thread that work made the
 * longest stalls of a burst, and every health probe waited behind them
 * (measured over bursts, three before and seven after: the /healthz p99
 * went from a median 3.4× to 1.7× that of an idle server beside it, the
 * loop's delay p99 from a median 33 ms to 29 ms; the runs vary a lot).
 * The service's thread now only receives the changes.
 *
 * The addon registers itself once per process (a static constructor, no
 * napi_register_module_v1), so only one thread of a process can ever load
 * it: one service per process, as `syncplane serve` runs.
 */
export function createParcelThreadWatcher (opts: ParcelThreadOptions): Watcher {
  const { root, sink, logger } = opts
  let settings: WatcherSettings = { excludes: opts.excludes, logLevel: logger.level }
  let status: WatcherStatus = { state: 'starting', lastError: null }
  let worker: Worker | undefined
  let starting: Promise<void> | undefined
  let watching = false
  let exited = false
  let failed = false
  let closing: Promise<void> | undefined
  /** Barriers the thread is working on, by id; all pass when the thread closes or dies (it reports nothing more). */
  const barriers = new Map<number, () => void>()
  let lastBarrier = 0
  let restarting: { resolve: () => void; reject: (err: Error) => void } | undefined
  const passAll = (): void => {
    for (const pass of barriers.values()) pass()
    barriers.clear()
  }

  const relog = (line: string): void => {
    try {
      const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as Record<string, unknown>
      logger[LEVELS[level as number] ?? 'info'](fields, typeof msg === 'string' ? msg : '')
    } catch {
      logger.info({ line }, 'watcher thread log line')
    }
  }

  // A watcher that died sees nothing more: degraded, so full mirrors keep the targets right.
  const lost = (message: string, err?: Error): void => {
    passAll()
    if (closing !== undefined || failed) return
    failed = true
    logger.error({ err }, `${message}; events will be missed`)
    status = { state: 'degraded', lastError: message }
    sink.onDegraded(message)
  }

  const spawn = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const init: ThreadInit = { root, ...settings, unwatched: opts.unwatched ?? [], nice: opts.nice }
    const w = new Worker(opts.entry ?? new URL('./parcel-thread-entry.js', import.meta.url), { workerData: init })
    worker = w
    w.on('message', (m: ThreadMessage) => {
      switch (m.type) {
        case 'changes': {
          // Changes posted before a close still count: the engine outlives the watcher.
          const changes: Change[] = new Array(m.paths.length)
          for (let i = 0; i < m.paths.length; i++) changes[i] = { path: m.paths[i]!, kind: m.kinds[i]! }
          sink.onChanges(changes)
          break
        }
        case 'degraded':
          if (closing !== undefined) break
          status = m.status
          sink.onDegraded(m.message)
          break
        case 'started':
          watching = true
          if (closing === undefined) status = m.status
          resolve()
          break
        case 'start-failed':
          reject(new InternalError('SP_WATCHER_START_FAILED', m.message, m.systemCode))
          void w.terminate()
          break
        case 'log':
          relog(m.line)
          break
        case 'restarted':
          status = m.status
          restarting?.resolve()
          restarting = undefined
          break
        case 'restart-failed':
          restarting?.reject(new InternalError('SP_WATCHER_START_FAILED', m.message, m.systemCode))
          restarting = undefined
          break
        case 'barrier-passed':
          barriers.get(m.id)?.()
          barriers.delete(m.id)
          break
        case 'closed':
          void w.terminate()
          break
      }
    })
    w.on('error', (err) => {
      if (watching) lost(`watcher thread failed: ${err.message}`, err)
      else {
        reject(err)
        void w.terminate()
      }
    })
    w.on('exit', (code) => {
      exited = true
      passAll()
      restarting?.reject(new InternalError('SP_WATCHER_THREAD_EXITED', `watcher thread exited (code ${code})`))
      restarting = undefined
      if (watching) lost(`watcher thread exited (code ${code})`)
      else reject(new InternalError('SP_WATCHER_THREAD_EXITED', `watcher thread exited (code ${code}) before it was watching`))
    })
  })

  return {
    start () {
      if (closing !== undefined) return Promise.reject(new InternalError('SP_WATCHER_CLOSED', 'the watcher is closed'))
      starting ??= spawn()
      return starting
    },

    status () {
      return status
    },

    barrier (signal) {
      const w = worker
      if (w === undefined || !watching || exited || failed || closing !== undefined) return Promise.resolve()
      const id = ++lastBarrier
      const request = (m: ThreadRequest): void => w.postMessage(m)
      return new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          barriers.delete(id)
          // The thread stops waiting and removes its sentinels.
          if (!exited) request({ type: 'barrier-cancel', id })
          reject(signal.reason)
        }
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
        barriers.set(id, () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        })
        request({ type: 'barrier', id })
      })
    },

    restart () {
      const w = worker
      if (w === undefined || exited || closing !== undefined) return Promise.reject(new InternalError('SP_WATCHER_NOT_RUNNING', 'the watcher thread is not running'))
      if (restarting !== undefined) return Promise.reject(new InternalError('SP_WATCHER_RESTARTING', 'the watcher thread is already restarting'))
      passAll()
      return new Promise<void>((resolve, reject) => {
        restarting = { resolve, reject }
        w.postMessage('restart' satisfies ThreadRequest)
      })
    },

    checkWatches (checks) {
      if (worker !== undefined && !exited && closing === undefined) worker.postMessage({ type: 'check-watches', checks: [...checks] } satisfies ThreadRequest)
    },

    reconfigure (next) {
      settings = { excludes: next.excludes, logLevel: next.logLevel }
      if (worker !== undefined && !exited && closing === undefined) {
        worker.postMessage({ type: 'reconfigure', settings } satisfies ThreadRequest)
      }
    },

    close () {
      closing ??= (async () => {
        status = { ...status, state: 'stopped' }
        const w = worker
        if (w === undefined || exited) return
        const timer = setTimeout(() => { void w.terminate() }, CLOSE_TIMEOUT_MS)
        await new Promise<void>((resolve) => {
          w.once('exit', () => resolve())
          w.postMessage('close' satisfies ThreadRequest)
        })
        clearTimeout(timer)
        passAll()
      })()
      return closing
    },
  }
}
