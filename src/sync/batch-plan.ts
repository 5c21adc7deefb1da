import { lstatSync } from 'node:fs'
import path from 'node:path'
import { lstatMany } from '../watcher/lstat-many.js'

export type PathKind = 'dir' | 'other' | 'missing'

/** How a relative path looks on the source right now. */
export type KindOf = (relPath: string) => PathKind

export function lstatKindOf (source: string): KindOf {
  return (rel) => {
    try {
      // A missing entry is the common case of a burst's deletions: no exception for it.
      const st = lstatSync(path.join(source, rel), { throwIfNoEntry: false })
      return st === undefined ? 'missing' : st.isDirectory() ? 'dir' : 'other'
    } catch {
      // ENOTDIR, EACCES: not there as far as rsync is concerned either.
      return 'missing'
    }
  }
}

/** How many relative paths look on the source right now, looked up off the event loop. */
type KindsOf = (paths: readonly string[]) => Promise<Map<string, PathKind>>

/** The kinds of many paths at once, looked up on libuv's threads rather than the event loop. */
export function lstatKindsOf (source: string): KindsOf {
  return async (paths) => {
    const stats = await lstatMany(source, paths)
    const kinds = new Map<string, PathKind>()
    paths.forEach((rel, i) => kinds.set(rel, stats[i] === undefined ? 'missing' : stats[i]!.isDirectory() ? 'dir' : 'other'))
    return kinds
  }
}

/** Beyond these, a run is not small (see isSmallRun). */
export const SMALL_RUN_MAX_PATHS = 16
export const SMALL_RUN_MAX_BYTES = 64 * 1024

/**
 * Whether a planned list is a small run: a few files (or deletions) whose
 * bytes fit in the sockets' default buffers, so rsync never blocks long
 * writing them. A listed directory is sent whole and never counts as small.
 */
export function isSmallRun (source: string, list: readonly string[]): boolean {
  // Before any lstat: a long list is never small.
  if (list.length > SMALL_RUN_MAX_PATHS) return false
  const sizes: number[] = []
  for (const rel of list) {
    try {
      const st = lstatSync(path.join(source, rel))
      if (st.isDirectory()) return false
      sizes.push(st.size)
    } catch {
      // Gone: a deletion, no data to send.
      sizes.push(0)
    }
  }
  return fitsSmallRun(sizes)
}

/** Whether a run of files of these sizes is small (see isSmallRun); the mesh's batches use it with the sizes in their rows. */
export function fitsSmallRun (sizes: readonly number[]): boolean {
  if (sizes.length > SMALL_RUN_MAX_PATHS) return false
  let bytes = 0
  for (const size of sizes) bytes += size
  return bytes <= SMALL_RUN_MAX_BYTES
}

const parentOf = (rel: string): string => {
  const i = rel.lastIndexOf('/')
  return i === -1 ? '' : rel.slice(0, i)
}

/**
 * Turns the paths the watcher reported into the list one rsync run gets.
 *
 * - A path gone from the source is replaced by its top-most missing
 *   ancestor: rsync deletes that whole (with `--force`), whereas listing the
 *   children of a removed directory leaves it half-deleted on the target and
 *   exits 24.
 * - If an ancestor now exists as a file or link (a directory replaced by a
 *   non-directory), that ancestor is listed instead.
 * - Anything below a listed directory (sent recursively) or below a listed
 *   deletion is dropped: it is already covered.
 */
export function planBatch (paths: Iterable<string>, kindOf: KindOf): string[] {
  const cache = new Map<string, PathKind>()
  const kind = (rel: string): PathKind => {
    let k = cache.get(rel)
    if (k === undefined) {
      k = kindOf(rel)
      cache.set(rel, k)
    }
    return k
  }

  const chosen = new Set<string>()
  for (const p of paths) {
    if (p === '') continue
    if (kind(p) !== 'missing') {
      chosen.add(p)
      continue
    }
    let top = p
    for (let parent = parentOf(top); parent !== ''; parent = parentOf(parent)) {
      const k = kind(parent)
      if (k === 'missing') {
        top = parent
        continue
      }
      if (k === 'other') top = parent
      break
    }
    chosen.add(top)
  }

  // A listed directory (recursed) or a listed deletion covers its subtree.
  const covers = (rel: string): boolean => chosen.has(rel) && kind(rel) !== 'other'
  const out: string[] = []
  for (const p of chosen) {
    let covered = false
    for (let parent = parentOf(p); parent !== ''; parent = parentOf(parent)) {
      if (covers(parent)) {
        covered = true
        break
      }
    }
    if (!covered) out.push(p)
  }
  return out.sort()
}
