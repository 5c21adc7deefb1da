import type { Logger } from 'pino'
import type { Config } from '../config/schema.js'
import { createChokidarWatcher } from '../watcher/chokidar-watcher.js'
import { compileExcludes } from '../watcher/exclude-matcher.js'
import { createParcelThreadWatcher } from '../watcher/parcel-thread.js'
import { createParcelWatcher } from '../watcher/parcel-watcher.js'
import type { Watcher, WatcherSink } from '../watcher/watcher.js'

export interface WatcherBackendOptions {
  /** The configuration started with: the backend, the root and the thread's niceness need a restart to change. */
  config: Readonly<Config>
  /** The patterns in effect now. */
  excludes: readonly string[]
  /** Directories below the root never watched (the mesh's own); parcel only, the patterns exclude them for chokidar. */
  unwatched: readonly string[]
  /** parcel on a thread of its own, or on the service's thread (see ServicesOptions.watcherThread). */
  watcherThread: boolean
  sink: WatcherSink
  logger: Logger
}

/** The configured watcher backend on the source root. */
export function createWatcherBackend ({ config, excludes, unwatched, watcherThread, sink, logger }: WatcherBackendOptions): Watcher {
  const common = { root: config.source, logger, sink }
  if (config.watcher.backend === 'chokidar') {
    return createChokidarWatcher({ ...common, isExcluded: compileExcludes(excludes), usePolling: config.watcher.usePolling, pollIntervalMs: config.watcher.pollIntervalMs })
  }
  return watcherThread
    ? createParcelThreadWatcher({ ...common, excludes, unwatched, nice: config.threads.nice })
    : createParcelWatcher({ ...common, isExcluded: compileExcludes(excludes), unwatched })
}
