import type { WatchCheck } from '../watcher/watcher.js'
import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load.js'
import { parseTargetUrl } from '../config/target-url.js'
import type { Db } from '../db/open.js'
import { createMeshStore } from '../db/mesh-store.js'
import { createMesh, type Mesh } from '../mesh/mesh.js'
import type { RsyncRunner } from '../rsync/runner.js'
import { compileExcludes } from '../watcher/exclude-matcher.js'
import { SENTINEL_EXCLUDE } from '../watcher/flush-sentinel.js'

/** What the mesh shares with the rest of the service. */
export interface MeshNodeDeps {
  db: Db
  runner: RsyncRunner
  sourceFault: () => string | null
  watcherBarrier: (signal: AbortSignal) => Promise<void>
  checkWatches: (checks: readonly WatchCheck[]) => void
  logger: Logger
}

/** This node's mesh, as configured; undefined when the configuration names no mesh. */
export function createMeshNode (loaded: LoadedConfig, { db, runner, sourceFault, watcherBarrier, checkWatches, logger }: MeshNodeDeps): Mesh | undefined {
  const { config, mesh: settings } = loaded
  if (config.mesh === undefined || settings === undefined) return undefined
  return createMesh({
    root: config.source,
    self: settings.self,
    peers: config.mesh.peers.filter((p) => p.name !== settings.self).map((p) => ({
      name: p.name,
      api: p.api,
      rsync: { parsed: parseTargetUrl(p.url), ssh: p.ssh, password: settings.passwords.get(p.name) },
    })),
    secret: settings.secret,
    store: createMeshStore(db),
    runner,
    rsync: { source: config.source, ioTimeoutSec: config.rsync.ioTimeoutSec, connectTimeoutSec: config.rsync.connectTimeoutSec, extraArgs: config.rsync.extraArgs, deadlineSec: config.rsync.deadlineSec, killGraceSec: config.rsync.killGraceSec },
    retry: config.retry,
    maxEntries: config.mesh.maxEntries,
    rescanSec: config.mesh.rescanSec,
    repairSec: config.mesh.repairSec,
    trashDays: config.mesh.trashDays,
    tombstoneDays: config.mesh.tombstoneDays,
    deletes: config.deletes,
    // A node's own marker and flush sentinels are never a change for the peers.
    isExcluded: compileExcludes([SENTINEL_EXCLUDE, ...(config.sourceMarker === null ? [] : [`/${config.sourceMarker}`]), ...config.exclude]),
    sourceFault,
    watcherBarrier,
    checkWatches,
    logger: logger.child({ component: 'mesh' }),
  })
}
