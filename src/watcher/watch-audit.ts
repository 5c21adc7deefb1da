import { lstatSync, readdirSync } from 'node:fs'
import path from 'node:path'
import type { WatchCheck } from './watcher.js'
import { watchedInodes } from './watched-inodes.js'

/** How far below a directory a check that is not deep looks: changes at speed lose watches a level or two down. */
const SHALLOW_LEVELS = 2

/**
 * The directories among `checks` (absolute from `root`) that no inotify
 * watch of this process covers, outermost only (a subscription of one
 * covers what is below it); null where /proc cannot tell. `skip`: a
 * directory left unwatched on purpose, not looked into. `watched`: this
 * process's watched inodes by default, another's for a test's diagnostics.
 */
export function lostWatches (root: string, checks: readonly WatchCheck[], skip: (abs: string) => boolean, watched = watchedInodes()): string[] | null {
  if (watched === null) return null
  const lost = new Set<string>()
  const visit = (abs: string, depth: number): void => {
    if (lost.has(abs) || skip(abs)) return
    try {
      const st = lstatSync(abs)
      if (!st.isDirectory()) return
      if (!watched.has(st.ino.toString(16))) {
        lost.add(abs)
        return
      }
      if (depth === 0) return
      for (const e of readdirSync(abs, { withFileTypes: true })) if (e.isDirectory()) visit(path.join(abs, e.name), depth - 1)
    } catch {
      // Gone meanwhile: nothing to watch.
    }
  }
  for (const { dir, deep } of checks) visit(dir === '' ? root : path.join(root, dir), deep ? Infinity : SHALLOW_LEVELS)
  return [...lost]
}
