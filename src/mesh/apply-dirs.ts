import { mkdirSync, rmdirSync } from 'node:fs'
import path from 'node:path'
import type { MeshFileRow, MeshStore } from '../db/mesh-store.js'
import type { LocalChanges } from './local-changes.js'
import type { EntryOutcome, ManifestEntry } from './manifest.js'
import type { DisplacedWatch } from './displaced-watch.js'
import type { KnownDirs } from './known-dirs.js'
import type { ParentDirs } from './parent-dirs.js'
import { conflictCopyPath, wins, type VersionStamp } from './conflict-rule.js'
import { compareVectors, mergeVectors } from './version-vector.js'
import { deadHere, deadThere, deadWith, keptAfter, knownOf, outlives, rowFor, seenBeside, seenBy, seenOf, vvOf } from './version-row.js'
import { ancestorsAreDirectories, fileOnTheWay, inTree, lookAt } from './tree-fs.js'

/**
 * The receiving side's directories (see apply-batch.ts): a peer's version of
 * a directory, a directory a version needs where a file is, and a directory
 * a file or a deletion takes away.
 */
export interface DirApplyOptions {
  root: string
  self: string
  store: MeshStore
  local: LocalChanges
  displaced: DisplacedWatch
  parents: ParentDirs
  /** The directories the slice being applied has seen. */
  dirs: () => KnownDirs
  /** The local file `here` moved to the conflict copy `copy` (apply-batch.ts). */
  moveLocalToCopy: (here: MeshFileRow, copy: string, winner: string, depth: number) => EntryOutcome
  /** `e` is old news here (apply-batch.ts). */
  learn: (row: MeshFileRow, e: ManifestEntry) => EntryOutcome
  onConflict: (c: { path: string, copy: string, winner: string, loser: string, loserHlc: number }) => void
}

const stampOf = (v: { hlc: number, origin: string }): VersionStamp => ({ hlc: v.hlc, origin: v.origin })

export function createDirApply (opts: DirApplyOptions) {
  const { root, self, store, local, displaced, parents, moveLocalToCopy, learn } = opts
  const abs = (rel: string): string => inTree(root, rel)

  /**
   * A file here where `e` needs a directory: `e` is news here, so the file's
   * node had not seen what is inside the directory there (it removed the
   * directory, then wrote the file, say). As where a directory meets a file
   * at its own path (makeDir), the file moves to a conflict copy and the
   * directory comes back: a new local version that has seen the file, so
   * every node ends with it. Old news is stale: were it retried, its sender
   * and this node would trade it for good.
   */
  function clearWay (e: ManifestEntry): EntryOutcome {
    const dirs = opts.dirs()
    if (ancestorsAreDirectories(root, e.path, dirs.look)) return 'applied'
    const file = fileOnTheWay(root, e.path, dirs.look)
    if (file === null) return 'retry'
    const row = store.get(e.path)
    if (row !== undefined && seenBy(e.vv, seenOf(row))) return 'stale'
    local.scan([file])
    const held = store.get(file)
    if (held === undefined || held.deleted || held.kind !== 'file') return 'retry'
    const copy = conflictCopyPath(file, stampOf(held))
    const moved = moveLocalToCopy(held, copy, self, 0)
    if (moved !== 'applied') return moved
    opts.onConflict({ path: file, copy, winner: self, loser: held.origin, loserHlc: held.hlc })
    try {
      mkdirSync(abs(file))
    } catch {
      return 'retry'
    }
    dirs.made(abs(file))
    local.scan([file])
    return 'applied'
  }

  /** Removes the directory at `rel` if it is empty; false if it is not. */
  function removeDir (rel: string): boolean {
    try {
      opts.dirs().removed(abs(rel))
      rmdirSync(abs(rel))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
      return false
    }
    return true
  }

  /** A peer's version of a directory. */
  function makeDir (e: ManifestEntry): EntryOutcome {
    const cleared = clearWay(e)
    if (cleared !== 'applied') return cleared
    local.scan([e.path])
    const row = store.get(e.path)
    const outlived = row !== undefined && !row.deleted && outlives(e, row)
    // As for a file (apply-batch.ts): a directory that outlived the file held here, deleted since, does not take its
    // place where the file had only lost to it there. Where the file is dead there too, the directory does: a
    // tombstone for both would have no more than the directory's own vector here (its deletion is known here only
    // inside what the file had seen), and the peers holding the directory would take it as old news.
    if (outlived && deadHere(e, row) && !deadThere(row, e)) return 'stale'
    const order = row === undefined ? 'after' : compareVectors(e.vv, seenOf(row))
    if (!outlived && (order === 'equal' || order === 'before')) return learn(row!, e)
    const merged = mergeVectors(knownOf(e), row === undefined ? {} : seenOf(row))
    const seen = lookAt(abs(e.path))
    if (seen?.type === 'file' && (outlived || compareVectors(e.vv, vvOf(row!)) === 'after')) {
      // The directory's node had seen this file (and removed it): it goes as a replaced file does.
      displaced.setAside(e.path, row!, 'replaced')
    } else if (seen?.type === 'file') {
      // A file here, a directory there: the file moves to a conflict copy (kept and announced), the directory comes.
      const outcome = moveLocalToCopy(row!, conflictCopyPath(e.path, stampOf(row!)), e.origin, 0)
      if (outcome !== 'applied') return outcome
    }
    const revived = parents.make(`${e.path}/x`, e, opts.dirs())
    // What this node owes its peers for the path is the row it holds when it sends: the row `e` replaces must not
    // carry something `e` has not seen (a peer still holding what it told of would keep that for good).
    const concurrent = !outlived && row !== undefined && compareVectors(e.vv, vvOf(row)) === 'concurrent'
    if (concurrent && row.deleted) {
      // A deletion held here, a version of the directory it had not seen: the directory comes back (update against
      // delete) as a new local version that has seen both, as one made again for a file does (see revive).
      store.put(keptAfter(row, e, merged))
      parents.revive([...revived.filter((dir) => dir !== e.path), e.path])
      return 'applied'
    }
    if (concurrent && row.kind === 'dir') {
      // Two versions of the directory, neither having seen the other, both saying "here": every node holding either
      // takes the one that has seen both (no new version, so no node makes one in turn).
      const vv = mergeVectors(e.vv, vvOf(row))
      store.put({ ...keptAfter(row, e, merged), vv: JSON.stringify(vv), seen: seenBeside(vv, merged), ...(wins(stampOf(e), stampOf(row)) ? stampOf(e) : stampOf(row)) })
    } else {
      store.put(rowFor(e, merged, deadWith(row, e), null))
    }
    parents.revive(revived.filter((dir) => dir !== e.path))
    return 'applied'
  }

  return { makeDir, clearWay, removeDir }
}
