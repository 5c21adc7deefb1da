import { readdirSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { MeshFileRow, MeshStore } from '../db/mesh-store.js'
import type { HybridClock } from './clock.js'
import { isMeshInternal } from './mesh-paths.js'
import { ancestorsAreDirectories, inTree, lookAt, sameKey, type Entry, type StatKey } from './tree-fs.js'
import { bumpVector, mergeVectors } from './version-vector.js'
import { deadBeside, deadOf, pastOf } from './version-row.js'

/**
 * Turns what is on disk into versions: a path whose stat differs from the
 * row this node keeps for it changed here, so it gets a new local version
 * (its own counter up) owed to every peer. A version a peer sent was
 * recorded with the stat it has once in place, so its watcher event finds
 * nothing new: nothing received is ever sent out again. Deletions become
 * tombstones; a directory seen for the first time is read whole (files
 * written into it before its watch existed are found too).
 */
export interface LocalChangesOptions {
  root: string
  self: string
  store: MeshStore
  clock: HybridClock
  /** The peers a local version is owed to. */
  peers: () => readonly string[]
  /** The user's excludes: never originated. */
  isExcluded: (rel: string, isDir: boolean | undefined) => boolean
  /** Whether the deletions a pass found may be recorded now (the mass-delete guard); `whole`: a read of the whole tree found them. */
  mayDelete: (count: number, whole: boolean) => boolean
  /** A source fault: what is at the root is not the tree (an unmounted volume), so nothing found there is a change. */
  sourceFault: () => string | null
  logger: Logger
}

export interface ScanResult {
  versions: number
  tombstones: number
  deletesHeld: number
  /** Directories found gone or replaced (here or by a peer's version): where the watcher loses watches and paths (intake.ts). */
  dirsGone: number
}

const noChanges = (): ScanResult => ({ versions: 0, tombstones: 0, deletesHeld: 0, dirsGone: 0 })

/** A read of the whole tree, a step at a time (`walkTree`). */
export interface TreeWalk {
  /** What the steps so far found; complete once `step` returned true. */
  readonly result: ScanResult
  step: (budgetMs: number) => boolean
  /**
   * The mass-delete guard held deletions, or an operator confirmed some,
   * after this read began: it may have passed where they are, so its count
   * is not the whole count. Its deletions are then weighed as a scan of a
   * few paths' are (delete-hold.ts).
   */
  stale: () => void
}

/** One scan's findings, and how it reads a directory below one it read (at once, or in a later step). */
interface Pass {
  gone: MeshFileRow[]
  result: ScanResult
  descend: (rel: string, deep: boolean) => void
}

export type LocalChanges = ReturnType<typeof createLocalChanges>

export function createLocalChanges (opts: LocalChangesOptions) {
  const { root, self, store, clock } = opts
  let seq = store.maxSeq()

  const record = (row: MeshFileRow, result: ScanResult): void => {
    store.put(row)
    store.enqueue(row.path, opts.peers(), ++seq)
    if (row.deleted) result.tombstones++
    else result.versions++
  }
  const version = (rel: string, prev: MeshFileRow | undefined, kind: 'file' | 'dir', key: StatKey | null, hlc = clock.tick()): MeshFileRow => {
    // From everything seen here, not only the version held: the new version has seen all of it, and takes it over.
    // The counter goes to the clock at least, so it never repeats, even where a forgotten tombstone left no row (see
    // tombstones.ts).
    const vv = bumpVector(prev === undefined ? {} : JSON.parse(prev.seen ?? prev.vv), self, hlc)
    return {
      path: rel,
      kind,
      deleted: false,
      vv: JSON.stringify(vv),
      seen: null,
      dead: deadBeside(mergeVectors(deadOf(prev), pastOf({ vv, deleted: false, origin: self }))),
      hlc,
      origin: self,
      size: key?.size ?? null,
      mtimeNs: key?.mtimeNs ?? null,
      ino: key?.ino ?? null,
      // A conflict copy changed here is still that copy.
      copyOf: prev?.copyOf ?? null,
    }
  }
  const tombstone = (row: MeshFileRow): MeshFileRow => ({ ...version(row.path, row, row.kind, null), deleted: true })

  /**
   * One path; `deep`: read a directory whole even when it is not new.
   * `reported`: named by the watcher (or another caller), not found below
   * one: a directory is then read whole even when it is known, as rsync
   * recurses over a directory the one-way engine is told of. A directory a
   * peer's version made here is known before the watcher reports it, and an
   * application may write into it before its watch exists (the moment after
   * a mkdir); in a directory moved in, parcel reports what is written below
   * it under the old path until the directories below it are watched
   * again, and then reports the directory again
   * (watcher/subtree-watches.ts): only a read after that finds those files.
   */
  function scanOne (rel: string, deep: boolean, pass: Pass, reported = false, siblings?: ReadonlyMap<string, MeshFileRow>, looked?: Entry): void {
    const { gone, result } = pass
    if (rel === '' || isMeshInternal(rel) || opts.isExcluded(rel, undefined)) return
    const seen = looked !== undefined ? looked : lookAt(inTree(root, rel))
    // A directory's entries come with their rows, read in one statement (a statement per entry cost more than its lstat).
    const row = siblings === undefined ? store.get(rel) : siblings.get(rel)
    const present = row !== undefined && !row.deleted
    if (row?.kind === 'dir' && seen?.type !== 'dir') result.dirsGone++
    if (seen === null || seen.type === 'other') {
      // A symlink or device is not replicated; for the mesh it is as if absent.
      if (present) gone.push(row)
      // Whatever is recorded below it is gone too (also below a directory whose own deletion was recorded alone).
      gone.push(...store.below(rel))
      return
    }
    if (seen.type === 'dir') {
      if (opts.isExcluded(rel, true)) return
      const isNew = !present || row.kind !== 'dir'
      if (present && row.kind === 'file') gone.push(row)
      if (isNew) record(version(rel, row, 'dir', null), result)
      if (isNew || deep || reported) pass.descend(rel, deep || reported)
      return
    }
    if (present && row.kind === 'file' && sameKey(seen.key, row)) return
    gone.push(...store.below(rel))
    record(version(rel, row, 'file', seen.key), result)
  }

  function scanChildren (rel: string, deep: boolean, pass: Pass): void {
    const { gone, result } = pass
    const abs = inTree(root, rel)
    let names: string[]
    try {
      names = readdirSync(abs)
    } catch {
      return
    }
    // Scanning one entry records rows at or below it only: the others' rows read here stay current.
    const rows = new Map(store.children(rel).map((r) => [r.path, r]))
    const here = new Set<string>()
    for (const name of names) {
      const child = rel === '' ? name : `${rel}/${name}`
      here.add(child)
      scanOne(child, deep, pass, false, rows)
    }
    // Rows of this directory's entries that are no longer on disk.
    for (const r of rows.values()) {
      if (r.deleted || here.has(r.path) || isMeshInternal(r.path) || opts.isExcluded(r.path, r.kind === 'dir')) continue
      gone.push(r)
      // A directory gone: everything below it too (its rows would otherwise stay present with nothing on disk, never looked at again).
      if (r.kind !== 'dir') continue
      result.dirsGone++
      gone.push(...store.below(r.path))
    }
  }

  /**
   * Records the deletions found, unless the mass-delete guard holds them
   * (`whole`: found by a read of the whole tree). Each is looked at again
   * first, and only those still gone count: a read of the whole tree goes
   * in steps, and meanwhile the watcher may have recorded a deletion it
   * found, or the path may be back (a directory's child seen again under it).
   */
  function settleGone (gone: MeshFileRow[], result: ScanResult, whole: boolean): void {
    const still = new Map<string, MeshFileRow>()
    for (const r of gone) {
      if (r.deleted || still.has(r.path)) continue
      // The row as it is now: this pass may have recorded a version of the path since it was found gone.
      const current = store.get(r.path)
      if (current === undefined || current.deleted) continue
      // Found, but through a directory made a symlink: not the tree, so gone from it (looked at only then: a burst of
      // deletions finds nothing, and would lstat every ancestor of every path again).
      const seen = lookAt(inTree(root, r.path))
      if (seen !== null && seen.type === current.kind && ancestorsAreDirectories(root, r.path)) continue
      still.set(r.path, current)
    }
    if (still.size === 0) return
    if (!opts.mayDelete(still.size, whole)) {
      result.deletesHeld = still.size
      return
    }
    for (const current of still.values()) record(tombstone(current), result)
  }

  /** A pass that reads each directory it descends into at once. */
  const recursive = (): Pass => {
    const pass: Pass = { gone: [], result: noChanges(), descend: (rel, deep) => scanChildren(rel, deep, pass) }
    return pass
  }

  return {
    /**
     * The watcher's paths: each one looked at (or as `looked` says it just
     * was, in the same event-loop turn), its parents' new directories read whole.
     */
    scan (paths: Iterable<string>, looked?: ReadonlyMap<string, Entry>): ScanResult {
      const pass = recursive()
      if (opts.sourceFault() !== null) return pass.result
      store.transaction(() => {
        for (const rel of paths) scanOne(rel, false, pass, true, undefined, looked?.get(rel))
        settleGone(pass.gone, pass.result, false)
      })
      return pass.result
    },
    /**
     * The entries directly in each of `dirs` against the rows (a new
     * directory among them read whole): what the watcher may not have
     * reported in directories where something happened (intake.ts).
     */
    scanDirs (dirs: Iterable<string>): ScanResult {
      const pass = recursive()
      if (opts.sourceFault() !== null) return pass.result
      store.transaction(() => {
        for (const dir of dirs) {
          if (dir !== '' && (isMeshInternal(dir) || opts.isExcluded(dir, true) || lookAt(path.join(root, dir))?.type !== 'dir')) continue
          scanChildren(dir, false, pass)
        }
        settleGone(pass.gone, pass.result, false)
      })
      return pass.result
    },
    /**
     * The whole tree against the rows (what changed while nobody watched: at
     * start, and every rescan interval), a few directories at a time: each
     * `step` reads directories for about `budgetMs` (one at least), in a
     * transaction of its own, and returns true once the tree is read and its
     * deletions are settled. A tree of a million files takes seconds to
     * read; in one piece it would keep the event loop (the API, health
     * probes, peers' batches) that long. Between steps the tree may change:
     * each directory is read in one step, and a path found gone is looked at
     * again when the deletions are settled, after the last one.
     */
    walkTree (): TreeWalk {
      // Each directory to read with the step it was queued in.
      const pending = [{ rel: '', step: 0 }]
      let steps = 0
      const pass: Pass = { gone: [], result: noChanges(), descend: (rel) => pending.push({ rel, step: steps }) }
      let whole = true
      return {
        result: pass.result,
        stale: () => { whole = false },
        step (budgetMs: number): boolean {
          const until = performance.now() + budgetMs
          steps++
          store.transaction(() => {
            do {
              const { rel, step } = pending.pop()!
              // Queued in an earlier step: made a symlink since (itself or above it), reading it would follow it out of
              // the tree. Queued in this one, it was seen a directory a moment ago (the check costs a third of a read).
              // The root is the source itself, which may be a symlink to its directory; its identity is the guards'.
              if (rel === '' || step === steps || (lookAt(inTree(root, rel))?.type === 'dir' && ancestorsAreDirectories(root, rel))) scanChildren(rel, true, pass)
            } while (pending.length > 0 && performance.now() < until)
            if (pending.length === 0) settleGone(pass.gone, pass.result, whole)
          })
          if (pending.length > 0) return false
          const { result } = pass
          if (result.versions + result.tombstones + result.deletesHeld > 0) opts.logger.info(result, 'rescan found local changes')
          return true
        },
      }
    },
    /** Puts a path into every peer's queue again (a version that must go out again, such as a conflict copy). */
    owe (rel: string, peers: readonly string[] = opts.peers()): void {
      store.enqueue(rel, peers, ++seq)
    },
    /**
     * Puts a path into a peer's queue unless it is there already (a repair
     * found the peer lacks it): queued or in a batch in flight, it reaches the
     * peer anyway, and put again, the batch's acknowledgement would not take
     * it off and it would go twice. True if it was queued now.
     */
    remind (rel: string, peer: string): boolean {
      return store.enqueueMissing(rel, peer, ++seq)
    },
  }
}
