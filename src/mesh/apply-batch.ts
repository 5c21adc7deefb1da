import { renameSync, unlinkSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { MeshFileRow, MeshStore } from '../db/mesh-store.js'
import type { HybridClock } from './clock.js'
import type { LocalChanges } from './local-changes.js'
import type { EntryOutcome, Manifest, ManifestEntry } from './manifest.js'
import { applyOrder, entryProblem } from './incoming-entries.js'
import { conflictCopyPath, wins, type VersionStamp } from './conflict-rule.js'
import { compareVectors, mergeVectors, type VersionVector } from './version-vector.js'
import { deadHere, deadThere, deadWith, keptAfter, knownOf, learned, outlives, rowFor, seenBeside, seenOf, vvOf, type RowKey } from './version-row.js'
import { ancestorsAreDirectories, inTree, lookAt, placeIfAbsent, sameContent, type Entry } from './tree-fs.js'
import { createReinstate } from './reinstate.js'
import { createParentDirs } from './parent-dirs.js'
import { createKnownDirs } from './known-dirs.js'
import { createDirApply } from './apply-dirs.js'
import { createDisplacedWatch, type DisplacedWatchOptions } from './displaced-watch.js'
import type { OpenForWrite } from './open-writers.js'

/**
 * The receiving side: this node does every write to its own tree, one entry
 * at a time, synchronously (nothing else on this thread runs in between, so
 * no local scan can interleave). Before an entry is weighed, the path is
 * scanned, so a local write not yet reported becomes a version of its own
 * and meets the peer's as a conflict instead of being overwritten.
 *
 * What a node never does: replace a version it has not seen (a concurrent
 * one is kept as a conflict copy), put a file where an application just
 * created one (installs link, which cannot replace), or unlink bytes it
 * displaced while a process may still be writing them (displaced-watch.ts).
 */
export interface ApplyOptions {
  root: string
  self: string
  store: MeshStore
  clock: HybridClock
  local: LocalChanges
  /** Runs a pass over the displaced files later (see displaced-watch.ts). */
  recheck: (pass: () => Promise<void>, ms: number) => void
  /** Which displaced files a process has open for writing (open-writers.ts in production). */
  openForWrite: OpenForWrite
  /** True while the source is faulted: displaced files are left alone then (see displaced-watch.ts). */
  suspended?: () => boolean
  /** How long displaced files are held at least, and looked at again while written (tests shorten them). */
  displacedTiming?: DisplacedWatchOptions['timing']
  onConflict: (c: { path: string, copy: string, winner: string, loser: string, loserHlc: number }) => void
  logger: Logger
}

export type ApplyBatch = ReturnType<typeof createApplyBatch>

export function createApplyBatch (opts: ApplyOptions) {
  const { root, self, store, clock, local, logger } = opts
  const abs = (rel: string): string => inTree(root, rel)
  const displaced = createDisplacedWatch({ root, self, clock, local, logger, later: opts.recheck, openForWrite: opts.openForWrite, suspended: opts.suspended, timing: opts.displacedTiming })
  const parents = createParentDirs(root, store, local)
  const stampOf = (v: { hlc: number, origin: string }): VersionStamp => ({ hlc: v.hlc, origin: v.origin })
  const reinstate = createReinstate({ root, store, local, logger, install })
  /** The directories the slice being applied has seen (one per apply call). */
  let dirs = createKnownDirs()
  const { makeDir, clearWay, removeDir } = createDirApply({ root, self, store, local, displaced, parents, dirs: () => dirs, moveLocalToCopy, learn, onConflict: opts.onConflict })

  /**
   * Puts the file at `from` (staged, or a displaced local file) at `rel` as
   * version `e`. At a conflict-copy path this runs again for the copy, so a
   * conflict on a copy is resolved like any other. `recorded`: the stat the
   * version is held with, when known: the staged file's as just read, or the
   * one a local file's version was recorded with (else keyOf reads it): bytes
   * a writer still at it added since are then a change the next scan finds,
   * not the version's own.
   */
  function put (e: ManifestEntry, from: string, depth = 0, recorded?: RowKey): EntryOutcome {
    if (depth > 8) return 'retry'
    const cleared = clearWay(e)
    if (cleared !== 'applied') return cleared
    // A path with no row has no version here to weigh: one an application makes meanwhile fails the install's link
    // (EEXIST), the entry is retried and meets it then as a version of its own. Looking first (a miss on ext4,
    // inside a savepoint) cost a seventh of a receiver's burst.
    let row = store.get(e.path)
    if (row !== undefined) {
      local.scan([e.path])
      row = store.get(e.path)
    }
    const here = row !== undefined && !row.deleted ? row : undefined
    const outlived = here !== undefined && outlives(e, here)
    if (outlived && deadHere(e, here)) return outlivedDead(e, here)
    const order = row === undefined ? 'after' : compareVectors(e.vv, seenOf(row))
    if (!outlived && (order === 'equal' || order === 'before')) return learn(row!, e)
    const merged = mergeVectors(knownOf(e), row === undefined ? {} : seenOf(row))
    const dead = deadWith(row, e)
    if (here === undefined) return install(e, from, merged, dead, recorded)
    if (here.kind === 'dir' && (outlived || compareVectors(e.vv, vvOf(here)) === 'after')) {
      // The file's node had seen the directory (and removed it; or its node had): once empty here, it goes. Not empty: what is
      // inside has its deletions on the way (applied after files), or is news to that node, which then makes the
      // directory again.
      if (!removeDir(e.path)) return 'retry'
      return install(e, from, merged, dead, recorded)
    }
    if (here.kind === 'dir') {
      // A directory here, a file there: the directory stays, having seen the file (as where the directory came
      // second: makeDir); the file is kept beside it as a conflict copy.
      const copy = conflictCopyPath(e.path, stampOf(e))
      const outcome = keepAsCopy(e, from, copy, self, depth)
      // Owed onwards, as a file's loser is (below).
      if (outcome === 'applied') local.owe(copy)
      if (outcome === 'applied' || outcome === 'stale') store.put(keptAfter(here, e, merged))
      return outcome
    }
    // Weighed against the version held, not all that is seen here: a later version of it from a node that never
    // saw a deletion this one outlived (or the other side of a conflict, kept as a copy) replaces it, no conflict.
    if (outlived || compareVectors(e.vv, vvOf(here)) === 'after') return replace(e, from, here, merged, dead, recorded)
    // Concurrent: the same bytes are no conflict at all.
    if (sameContent(from, abs(e.path))) {
      unlinkSync(from)
      if (wins(stampOf(e), stampOf(here))) store.put({ ...keptAfter(here, e, merged), vv: JSON.stringify(mergeVectors(e.vv, {})), seen: seenBeside(e.vv, merged), hlc: e.hlc, origin: e.origin })
      else store.put(keptAfter(here, e, merged))
      return 'applied'
    }
    if (wins(stampOf(e), stampOf(here))) {
      // The local version loses: renamed (same inode, so a writer still at it writes into the copy) and announced.
      const copy = conflictCopyPath(e.path, stampOf(here))
      const copied = moveLocalToCopy(here, copy, e.origin, depth)
      if (copied !== 'applied') return copied
      opts.onConflict({ path: e.path, copy, winner: e.origin, loser: here.origin, loserHlc: here.hlc })
      return install(e, from, merged, dead)
    }
    const copy = conflictCopyPath(e.path, stampOf(e))
    const outcome = keepAsCopy(e, from, copy, here.origin, depth)
    // Owed onwards too: a peer the sender collapsed this version away for never meets the conflict itself.
    if (outcome === 'applied') local.owe(copy)
    if (outcome === 'applied' || outcome === 'stale') {
      store.put(keptAfter(here, e, merged))
      opts.onConflict({ path: e.path, copy, winner: here.origin, loser: e.origin, loserHlc: e.hlc })
      return 'applied'
    }
    return outcome
  }

  /**
   * `e` outlived the version `here` held, but was itself overwritten or
   * deleted since, as this node knows and its sender did not. Where `here`
   * had only lost to `e` there, it stays. Where the sender had `here`
   * deleted too, neither stays: this node deletes `here` itself, having seen
   * both, a tombstone new to every node. One made of the vectors known here
   * is not always new to a peer still holding `e`, whose deletion may be
   * known here only inside what `here` had seen: that peer takes it as old
   * news and keeps `e` for good.
   */
  function outlivedDead (e: ManifestEntry, here: MeshFileRow): EntryOutcome {
    if (!deadThere(here, e)) return 'stale'
    store.put(keptAfter(here, e, mergeVectors(knownOf(e), seenOf(here))))
    // Held as a file a peer's deletion removed is: a writer that had it open may still write into it.
    displaced.setAside(e.path, here, 'deleted')
    local.scan([e.path])
    return 'applied'
  }

  /** `e` is old news here; what its sender had seen beside it may not be (see learned). */
  function learn (row: MeshFileRow, e: ManifestEntry): EntryOutcome {
    const richer = learned(row, e)
    if (richer !== undefined) store.put(richer)
    return 'stale'
  }

  /** The incoming version, kept under `copy` with its own vector (every node names and versions it alike). */
  function keepAsCopy (e: ManifestEntry, from: string, copy: string, winner: string, depth: number): EntryOutcome {
    if (copy === e.path) return 'retry'
    return put({ ...e, path: copy, copyOf: { path: e.path, winner }, seen: undefined }, from, depth + 1)
  }

  /** The local version `here` moves to `copy`, keeping its vector, owed to every peer (one may never have seen it). */
  function moveLocalToCopy (here: MeshFileRow, copy: string, winner: string, depth: number): EntryOutcome {
    const existing = store.get(copy)
    if (existing !== undefined && !existing.deleted && existing.vv === here.vv) {
      // The same version is already there (a peer sent the copy first): the bytes go to the trash, not away, once no
      // writer is at them (one that still is writes a conflict copy of its own).
      displaced.setAside(here.path, here, 'replaced')
      return 'applied'
    }
    const staged = displaced.reserve(here.path, here, 'moving', 'conflict')
    renameSync(abs(here.path), staged)
    // With the stat its version was recorded with: a writer still at it may have written since (after the rename).
    const outcome = put({ path: copy, kind: 'file', deleted: false, vv: vvOf(here), hlc: here.hlc, origin: here.origin, copyOf: { path: here.path, winner } }, staged, depth + 1, here)
    if (outcome === 'applied' || outcome === 'stale') {
      if (outcome === 'applied') local.owe(copy)
      // Stale (a later version of the copy is there): the local file is held like a replaced one.
      if (lookAt(staged) !== null) displaced.hold(staged, here.path, here, 'replaced')
      else displaced.unreserve(staged)
      return 'applied'
    }
    // The copy could not be made: the local file goes back where it was.
    if (placeIfAbsent(staged, abs(here.path))) {
      unlinkSync(staged)
      displaced.unreserve(staged)
    } else {
      // Its note stays: the next start puts it back, or keeps it as a conflict copy of its own.
      logger.warn({ path: here.path, kept: staged }, 'a local version could not be put back; it is kept in .syncplane/displaced')
    }
    return outcome
  }

  /**
   * The stat version `e` is held with: `recorded`, or its file's, read before
   * it is put in place. Read after, it took the bytes of an application that
   * rewrote the path the moment the version arrived as the version's own, and
   * that write was never sent (seen in a kill -9 churn run).
   */
  function keyOf (from: string, recorded?: RowKey): RowKey | null {
    if (recorded !== undefined) return recorded
    const seen = lookAt(from)
    return seen?.type === 'file' ? seen.key : null
  }

  /** Nothing is at the path: the file goes there unless an application put one there meanwhile. */
  function install (e: ManifestEntry, from: string, known: VersionVector, dead: VersionVector, recorded?: RowKey): EntryOutcome {
    const revived = parents.make(e.path, e, dirs)
    const key = keyOf(from, recorded)
    if (!placeIfAbsent(from, abs(e.path))) {
      parents.revive(revived)
      return 'retry'
    }
    unlinkSync(from)
    store.put(rowFor(e, known, dead, key))
    parents.revive(revived)
    if (e.copyOf !== undefined) opts.onConflict({ path: e.copyOf.path, copy: e.path, winner: e.copyOf.winner, loser: e.origin, loserHlc: e.hlc })
    return 'applied'
  }

  /**
   * `e` has seen the local version: it replaces it. The displaced inode is
   * held under .syncplane/displaced (displaced-watch.ts): written since the
   * scan (an application had it open), it becomes a conflict copy and a local
   * version; otherwise it goes to the trash once no process has it open for writing.
   */
  function replace (e: ManifestEntry, from: string, here: MeshFileRow, known: VersionVector, dead: VersionVector, recorded?: RowKey): EntryOutcome {
    const held = displaced.reserve(e.path, here, 'replaced')
    if (!placeIfAbsent(abs(e.path), held)) {
      displaced.unreserve(held)
      return 'retry'
    }
    const key = keyOf(from, recorded)
    renameSync(from, abs(e.path))
    store.put(rowFor(e, known, dead, key))
    // Untouched, the replaced version goes to the trash (mesh.trashDays: files a peer deleted or replaced are kept there).
    displaced.hold(held, e.path, here, 'replaced')
    return 'applied'
  }

  /** A deletion meets one held here: the tombstone learns what the deletion had seen. */
  function onTombstone (row: MeshFileRow, e: ManifestEntry): EntryOutcome {
    const order = compareVectors(e.vv, seenOf(row))
    if (order === 'equal' || order === 'before') return learn(row, e)
    store.put(keptAfter(row, e, mergeVectors(knownOf(e), seenOf(row))))
    return 'applied'
  }

  /** A deletion removes only the version its node had seen; a concurrent change survives it. */
  function remove (e: ManifestEntry): EntryOutcome {
    // Where a file is on the way nothing can be there, but the deletion is still recorded, on a tombstone too:
    // the version it removed, arriving later from a node that had not heard of it either, must not come back
    // (delivery-order seed 2251626038: a tombstone there dropped it, and the version came back).
    const reachable = ancestorsAreDirectories(root, e.path, dirs.look)
    if (reachable) local.scan([e.path])
    const row = store.get(e.path)
    if (row === undefined) {
      store.put(rowFor(e, e.vv, deadWith(undefined, e), null))
      return 'applied'
    }
    if (row.deleted) return onTombstone(row, e)
    if (!reachable) return 'stale'
    const outlived = outlives(e, row)
    const order = compareVectors(e.vv, seenOf(row))
    if (!outlived && (order === 'equal' || order === 'before')) return learn(row, e)
    const merged = mergeVectors(knownOf(e), seenOf(row))
    // Whether the deleting node had seen the version held here (what else is seen here does not count: a deletion
    // of this version that it outlived, say, must not make a later deletion that had seen it look concurrent).
    if (!outlived && compareVectors(e.vv, vvOf(row)) === 'concurrent') {
      // Update against delete: the update wins everywhere (the deleting node takes it when it arrives there).
      store.put(keptAfter(row, e, merged))
      return 'applied'
    }
    if (row.kind === 'dir') {
      // Not empty: the deletions of what is inside may not be here yet (they travel in their own entries, maybe
      // from another node), or something the deleting node had not seen is inside, which reaches that node in
      // time and makes the directory again there (it then sends the directory, not its deletion). Either way,
      // later: taken as applied, the directory would stay here, empty, with the deletion's vector, forever.
      if (!removeDir(e.path)) return 'retry'
      store.put(rowFor(e, merged, deadWith(row, e), null))
    } else {
      store.put(rowFor(e, merged, deadWith(row, e), null))
      // Held as a replaced file is: a writer that had it open may still write into it (update against delete).
      displaced.setAside(e.path, row, 'deleted')
    }
    reinstate(e, row, merged)
    return 'applied'
  }

  return {
    /** The local files peers' versions displaced, until each is settled (kept as a version, or trashed). */
    displaced,

    /** Applies a peer's batch; its staged files are under `stagingDir`, `looked` at already when the journal noted them. */
    apply (manifest: Manifest, stagingDir: string, looked?: ReadonlyMap<string, Entry | null>): EntryOutcome[] {
      const outcomes: EntryOutcome[] = new Array(manifest.entries.length)
      dirs = createKnownDirs()
      const stagingRel = path.relative(root, stagingDir)
      for (const i of applyOrder(manifest.entries)) {
        const e = manifest.entries[i]!
        const staged = inTree(stagingDir, e.path)
        try {
          const problem = entryProblem(root, stagingRel, e, dirs.look)
          if (problem !== null) {
            logger.warn({ from: manifest.from, path: e.path, vv: e.vv, hlc: e.hlc }, problem)
            outcomes[i] = 'refused'
            continue
          }
          clock.observe(e.hlc)
          outcomes[i] = store.transaction(() => {
            if (e.deleted) return remove(e)
            if (e.kind === 'dir') return makeDir(e)
            const known = looked?.get(e.path)
            const seen = known !== undefined ? known : lookAt(staged)
            if (seen === null) return 'retry'
            if (seen.type !== 'file') return 'refused'
            return put(e, staged, 0, seen.key)
          })
        } catch (err) {
          logger.warn({ err, from: manifest.from, path: e.path }, 'applying a peer\'s version failed; it stays owed')
          outcomes[i] = 'retry'
        }
      }
      return outcomes
    },
  }
}
