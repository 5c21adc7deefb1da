import { isDeepStrictEqual } from 'node:util'
import type { LoadedConfig } from './load.js'

/**
 * Keys a running service cannot take over, because they name what it opened
 * at start: the watched tree and its journal, the database, the listening
 * socket and its authentication, the watcher and its threads, the rsync
 * binary (probed at start) and the job store. A key below one of these
 * needs a restart too.
 */
export const RESTART_ONLY_KEYS: readonly string[] = ['source', 'sourceMarker', 'database', 'api', 'watcher', 'threads', 'rsync.binary', 'rsync.nice', 'jobs.pathsPerJob', 'mesh']

export interface ConfigChanges {
  /** Changed keys as dotted paths to their leaves (a list counts as one leaf); `targets` is compared by name instead. */
  keys: string[]
  /** The changed keys that need a restart. */
  restartOnly: string[]
  targets: {
    added: string[]
    removed: string[]
    /** Anything in the target's entry, or its password, differs. */
    changed: string[]
  }
}

export function isRestartOnly (key: string): boolean {
  return RESTART_ONLY_KEYS.some((k) => key === k || key.startsWith(`${k}.`))
}

/** What differs between two validated configurations; secrets are compared, never returned. */
export function diffConfig (before: LoadedConfig, after: LoadedConfig): ConfigChanges {
  const { targets: oldTargets, ...oldRest } = before.config
  const { targets: newTargets, ...newRest } = after.config
  const keys = changedLeaves(oldRest, newRest, '')
  // The token never stays in the config (it may be served); it is compared here.
  if (before.apiToken !== after.apiToken && !keys.includes('api.token')) keys.push('api.token')

  const oldByName = new Map(oldTargets.map((t) => [t.name, t]))
  const newNames = new Set(newTargets.map((t) => t.name))
  const targets: ConfigChanges['targets'] = { added: [], removed: [], changed: [] }
  for (const t of oldTargets) if (!newNames.has(t.name)) targets.removed.push(t.name)
  for (const t of newTargets) {
    const old = oldByName.get(t.name)
    if (old === undefined) targets.added.push(t.name)
    else if (!isDeepStrictEqual(old, t) || before.secrets.get(t.name) !== after.secrets.get(t.name)) targets.changed.push(t.name)
  }
  return { keys, restartOnly: keys.filter(isRestartOnly), targets }
}

function changedLeaves (a: unknown, b: unknown, prefix: string): string[] {
  if (isMapping(a) && isMapping(b)) {
    const names = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...names].flatMap((name) => changedLeaves(a[name], b[name], prefix === '' ? name : `${prefix}.${name}`))
  }
  return isDeepStrictEqual(a, b) ? [] : [prefix]
}

function isMapping (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
