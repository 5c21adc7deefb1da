import type { Config } from '../config/schema.js'
import { MESH_DIR } from '../mesh/mesh-paths.js'
import type { EngineOptions } from '../sync/engine.js'
import { SENTINEL_EXCLUDE } from '../watcher/flush-sentinel.js'

/** Every engine setting, straight from the configuration: a reload replaces them all at once. */
export function engineOptions (config: Readonly<Config>): EngineOptions {
  return {
    source: config.source,
    // First, so no user pattern or extra argument can include a flush sentinel.
    excludes: [SENTINEL_EXCLUDE, ...meshExcludes(config), ...config.exclude],
    batch: config.batch,
    rsync: config.rsync,
    fullSync: config.fullSync,
    retry: config.retry,
    deletes: config.deletes,
  }
}

/** On a mesh node, syncplane's own directory at the top of the tree (staging, holds, trash) is never watched nor sent anywhere. */
export function meshExcludes (config: Readonly<Config>): string[] {
  return meshDirs(config).map((dir) => `/${dir}/`)
}

/** The same directory as a path below the root. */
export function meshDirs (config: Readonly<Config>): string[] {
  return config.mesh === undefined ? [] : [MESH_DIR]
}
