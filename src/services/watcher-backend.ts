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
  /** parcel may have a thread of its own where threads.watcher gives it one (see ServicesOptions.watcherThread). */
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
  return watcherThread && watcherOnOwnThread(config)
    ? createParcelThreadWatcher({ ...common, excludes, unwatched, nice: config.threads.nice })
    : createParcelWatcher({ ...common, isExcluded: compileExcludes(excludes), unwatched })
}

/**
 * threads.watcher: `auto` gives a one-way source's watcher a thread of its
 * own, where it keeps a burst's intake off the thread that answers HTTP
 * (/healthz p99 in a one-way burst, alternated: 87 against 155 ms). A mesh
 * node's thread spends a burst on its peers' batches: there the own thread
 * changed neither the probes nor the burst, and cost about 13 MB a node
 * (docs/performance.md).
 */
function watcherOnOwnThread (config: Pick<Config, 'threads' | 'mesh'>): boolean {
  if (config.threads.watcher === 'auto') return config.mesh === undefined
  return config.threads.watcher === 'own'
}
