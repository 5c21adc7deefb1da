import { lstatSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { pino } from 'pino'
import { lowerThisThreadPriority } from '../priority.js'
import { compileExcludes } from './exclude-matcher.js'
import { createParcelWatcher } from './parcel-watcher.js'
import type { ThreadInit, ThreadMessage } from './parcel-thread.js'
import type { ChangeKind } from './watcher.js'

/** The watcher thread (see parcel-thread.ts): the parcel backend, reporting by message. */
const port = parentPort!
const init = workerData as ThreadInit
const post = (m: ThreadMessage): void => port.postMessage(m)
// Before the addon loads: the native threads parcel starts inherit the nice.
lowerThisThreadPriority(init.nice)

// Log lines go to the service's thread, which logs them with its own bindings and destination.
const logger = pino({ level: init.logLevel }, { write: (line: string) => post({ type: 'log', line }) })

const watcher = createParcelWatcher({
  root: init.root,
  isExcluded: compileExcludes(init.excludes),
  logger,
  // On this thread blocking costs no probe anything, and spares libuv's pool,
  // whose threads run at the service's priority.
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

port.on('message', (m: unknown) => {
  if (m !== 'close') return
  void watcher.close().then(() => {
    post({ type: 'closed' })
    port.close()
  })
})

watcher.start().then(
  () => post({ type: 'started', status: watcher.status() }),
  (err: NodeJS.ErrnoException) => post({ type: 'start-failed', message: err.message, code: err.code }),
)
