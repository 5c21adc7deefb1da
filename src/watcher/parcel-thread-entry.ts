import { lstatSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import { lowerThisThreadPriority } from '../priority.js'
import { compileExcludes } from './exclude-matcher.js'
import { createParcelWatcher } from './parcel-watcher.js'
import type { ThreadInit, ThreadMessage, ThreadRequest } from './parcel-thread.js'
import type { ChangeKind, Watcher } from './watcher.js'

/** The watcher thread (see parcel-thread.ts): the parcel backend, reporting by message. */
const port = parentPort!
const init = workerData as ThreadInit
const post = (m: ThreadMessage): void => port.postMessage(m)

// Log lines go to the service's thread, which logs them with its own bindings and destination.
const logger = pino({ level: init.logLevel }, { write: (line: string) => post({ type: 'log', line }) })

let excludes = init.excludes
const makeWatcher = (): Watcher => createParcelWatcher({
  root: init.root,
  unwatched: init.unwatched,
  isExcluded: compileExcludes(excludes),
  logger,
  // On this thread blocking costs no probe anything, and spares libuv's pool
  // (its threads run at the service's priority) the lstats of a burst.
  lstatMany: async (paths) => paths.map((p) => {
    try {
      return lstatSync(p, { throwIfNoEntry: false })
    } catch {
      return undefined
    }
  }),
  sink: {
    onChanges (changes) {
      const paths = new Array<string>(changes.length)
      const kinds = new Array<ChangeKind>(changes.length)
      for (let i = 0; i < changes.length; i++) {
        paths[i] = changes[i]!.path
        kinds[i] = changes[i]!.kind
      }
      post({ type: 'changes', paths, kinds })
    },
    onDegraded (message) {
      post({ type: 'degraded', message, status: watcher.status() })
    },
  },
})
let watcher = makeWatcher()

/** Barriers under way, by the id the service's thread gave them. */
const barriers = new Map<number, AbortController>()

port.on('message', (m: ThreadRequest) => {
  if (m === 'close') {
    void watcher.close().then(() => {
      post({ type: 'closed' })
      port.close()
    })
  } else if (m === 'restart') {
    // Another directory is at the root: a new parcel watcher on this thread, which keeps the addon.
    for (const abort of barriers.values()) abort.abort()
    void watcher.close().then(() => {
      watcher = makeWatcher()
      return watcher.start()
    }).then(
      () => post({ type: 'restarted', status: watcher.status() }),
      (err: NodeJS.ErrnoException) => post({ type: 'restart-failed', message: err.message, systemCode: err.code })
    )
  } else if (m.type === 'check-watches') {
    watcher.checkWatches?.(m.checks)
  } else if (m.type === 'reconfigure') {
    logger.level = m.settings.logLevel
    excludes = m.settings.excludes
    watcher.reconfigure(m.settings)
  } else if (m.type === 'barrier') {
    const abort = new AbortController()
    barriers.set(m.id, abort)
    // Posted after the changes the barrier waited for: the service's thread receives them first.
    watcher.barrier(abort.signal).then(
      () => post({ type: 'barrier-passed', id: m.id }),
      (err: unknown) => { if (!abort.signal.aborted) logger.error({ err }, 'a flush barrier failed') }
    ).finally(() => barriers.delete(m.id))
  } else {
    barriers.get(m.id)?.abort()
  }
})

watcher.start().then(
  () => {
    // Only now: parcel's native threads, started by the first subscription,
    // inherit the nice of the thread that starts them, and the one reading
    // inotify must keep up with a burst, or the kernel's queue overflows.
    if (lowerThisThreadPriority(init.nice) === undefined && init.nice > 0) logger.debug('the watcher thread could not lower its priority')
    post({ type: 'started', status: watcher.status() })
  },
  (err: NodeJS.ErrnoException) => post({ type: 'start-failed', message: err.message, systemCode: err.code })
)
