import { lstatSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import type { WatchCheck } from './watcher.js'

/** How far below a directory a check that is not deep looks: changes at speed lose watches a level or two down. */
const SHALLOW_LEVELS = 2

/** An audit a step at a time (see createWatchAudit). */
export interface WatchAudit {
  /** Looks at directories for about `budgetMs` (one at least); true once none is left to look at. */
  step: (budgetMs: number) => boolean
  /** Whether directories not in the watched inodes were found since the last `settle`. */
  suspects: () => boolean
  /**
   * Weighs those against `fresh` (inodes read again): the ones in it are
   * watched, and the directories below them are queued (step again); the
   * others are lost, and returned. `fresh` is the watched inodes from then on.
   */
  settle: (fresh: ReadonlySet<string>) => string[]
}

/**
 * Finds the directories among `checks` (absolute from `root`) that no
 * inotify watch of the process covers, outermost only (a subscription of
 * one covers what is below it). `skip`: a directory left unwatched on
 * purpose, not looked into. `watched`: the watched inodes (watched-inodes.ts).
 *
 * A deep check of a large tree lstats and lists every directory in it,
 * which in one piece would hold the event loop for a second at a million
 * files: `step` looks at a slice. Between steps directories are made and
 * watched; one that is not in `watched` (read at the start) is looked up
 * again in inodes read afterwards (`settle`) before it counts as lost, and
 * if it is watched by then, the check goes on below it: a tree moved in
 * may have its top watched and not what is below.
 */
export function createWatchAudit (root: string, checks: readonly WatchCheck[], skip: (abs: string) => boolean, watched: ReadonlySet<string>): WatchAudit {
  /** Directories not in `watched`, with how deep the check goes below them. */
  const suspects = new Map<string, number>()
  const lost = new Set<string>()
  let inodes = watched
  const pending: Array<{ abs: string, depth: number }> = checks.map(({ dir, deep }) => ({ abs: dir === '' ? root : path.join(root, dir), depth: deep ? Infinity : SHALLOW_LEVELS })).reverse()
  const inode = (abs: string): string | null => {
    try {
      // The root is the source as configured, which may be a symlink to its directory: inotify watches where it leads.
      const st = abs === root ? statSync(abs) : lstatSync(abs)
      return st.isDirectory() ? st.ino.toString(16) : null
    } catch {
      // Gone meanwhile: nothing to watch.
      return null
    }
  }

  const below = (abs: string, depth: number): void => {
    if (depth === 0) return
    try {
      // Pushed in reverse: the directories are looked at in the order listed, depth first.
      const dirs = readdirSync(abs, { withFileTypes: true }).filter((e) => e.isDirectory())
      for (let i = dirs.length - 1; i >= 0; i--) pending.push({ abs: path.join(abs, dirs[i]!.name), depth: depth - 1 })
    } catch {
      // Gone meanwhile.
    }
  }

  const visit = (abs: string, depth: number): void => {
    if (suspects.has(abs) || lost.has(abs) || skip(abs)) return
    const ino = inode(abs)
    if (ino === null) return
    if (!inodes.has(ino)) suspects.set(abs, depth)
    else below(abs, depth)
  }

  return {
    step (budgetMs) {
      const until = performance.now() + budgetMs
      do {
        const next = pending.pop()
        if (next !== undefined) visit(next.abs, next.depth)
      } while (pending.length > 0 && performance.now() < until)
      return pending.length === 0
    },
    suspects: () => suspects.size > 0,
    settle (fresh) {
      inodes = fresh
      const found: string[] = []
      for (const [abs, depth] of suspects) {
        const ino = inode(abs)
        if (ino === null) continue
        if (fresh.has(ino)) {
          below(abs, depth)
          continue
        }
        lost.add(abs)
        found.push(abs)
      }
      suspects.clear()
      return found
    },
  }
}
