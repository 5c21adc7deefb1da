import { accessSync, constants, readdirSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config/schema.js'
import { markerPresent, readRootIdentity } from '../watcher/source-identity.js'
import { result, type CheckResult } from './result.js'
import { countWatches, judgeWatchLimit, readWatchLimit } from './watch-limit.js'

/**
 * The source as the service would find it: readable (the configuration
 * already said it is a directory), its root marker there when one is set,
 * and its watches under the inotify limit.
 */
export function checkSource (config: Readonly<Config>, watchLimitFile?: string): CheckResult[] {
  const results = [readable(config.source)]
  if (config.sourceMarker !== null) results.push(marker(config.source, config.sourceMarker))
  results.push(watchLimit(config, watchLimitFile))
  return results
}

function readable (source: string): CheckResult {
  const { ok, fail } = result('source', source)
  try {
    accessSync(source, constants.R_OK | constants.X_OK)
    const entries = readdirSync(source).length
    const mounted = readRootIdentity(source)?.mountPoint === true ? ', a mount point' : ''
    return ok(`readable directory${mounted}, ${entries} entries at the top`)
  } catch (err) {
    return fail(`cannot read the source: ${(err as Error).message}`)
  }
}

function marker (source: string, name: string): CheckResult {
  const file = path.join(source, name)
  const { ok, fail } = result('marker', file)
  if (markerPresent(source, name)) return ok('present')
  return fail(`missing: nothing is sent or deleted until it is there (a volume that did not mount looks like this); once the right volume is mounted: touch ${file}`)
}

function watchLimit (config: Readonly<Config>, file: string | undefined): CheckResult {
  const { backend, usePolling } = config.watcher
  const limit = usePolling ? 0 : readWatchLimit(file)
  const count = typeof limit === 'number' && !usePolling
    ? countWatches(config.source, { files: backend === 'chokidar', stopAfter: limit })
    : undefined
  return judgeWatchLimit({ source: config.source, backend, usePolling, limit, count })
}
