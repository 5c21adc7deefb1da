import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { MeshStore } from '../db/mesh-store.js'
import { conflictCopyPath } from './conflict-rule.js'
import type { ManifestEntry } from './manifest.js'
import { meshPathProblem } from './mesh-paths.js'
import { inTree, lookAt, sameKey, type Entry, type StatKey } from './tree-fs.js'
import { compareVectors, mergeVectors } from './version-vector.js'
import { deadWith, rowFor, seenOf } from './version-row.js'

/**
 * A slice of a peer's batch is applied in one transaction, but its files are
 * in place before that transaction commits: a process killed in between
 * leaves files in the tree that no row records. By itself that is harmless
 * (a scan takes such a file for a new local one, and the same bytes meet the
 * peer's version as no conflict), but a file the node's users delete while
 * it is down leaves nothing to record a deletion from, and the peer, never
 * acknowledged, sends it again: a resurrection on the very node that deleted
 * it. So a slice is noted, with the stat of each staged file (an install
 * links that inode into place, a replace renames it there: both keep it), before it touches
 * the tree, and the note goes in the slice's own transaction. A note found at
 * start is replayed against the tree before anything else looks at it.
 */
interface NotedFile { entry: ManifestEntry, key: StatKey }

export type ApplyingJournal = ReturnType<typeof createApplyingJournal>

export function createApplyingJournal ({ root, store, logger }: { root: string, store: MeshStore, logger: Logger }) {
  /**
   * Records the versions of one noted slice that did reach the tree; returns
   * how many. A version is taken as applied when its staged file (same inode, size and
   * mtime) is at its path, or when its staged copy was consumed and the path is empty (put in
   * place, then deleted here: the row makes the next scan record that
   * deletion). Anything else is left to the peer, which still owes it.
   */
  function replay (staging: string, files: readonly NotedFile[]): number {
    // The whole stat, not the inode alone: a file deleted and written anew while the node was down may get the same inode.
    const holds = (at: string, key: StatKey): boolean => {
      const seen = lookAt(path.join(root, at))
      return seen?.type === 'file' && sameKey(seen.key, key)
    }
    // Without its staging directory (removed by a live process after a failed commit) a consumed copy proves nothing.
    const stagingKept = existsSync(path.join(root, staging))
    let recorded = 0
    for (const { entry: e, key } of files) {
      const row = store.get(e.path)
      if (row !== undefined && ['equal', 'before'].includes(compareVectors(e.vv, seenOf(row)))) continue
      const merged = row === undefined ? e.vv : mergeVectors(e.vv, seenOf(row))
      if (holds(e.path, key)) {
        store.put(rowFor(e, merged, deadWith(row, e), key))
        recorded++
        continue
      }
      if (!stagingKept || holds(path.join(staging, e.path), key) || lookAt(path.join(root, e.path)) !== null) continue
      // Kept as a conflict copy instead, the bytes are at the copy's path: a scan finds them there.
      if (holds(conflictCopyPath(e.path, { hlc: e.hlc, origin: e.origin }), key)) continue
      store.put(rowFor(e, merged, deadWith(row, e), null))
      recorded++
    }
    return recorded
  }

  return {
    /**
     * Notes a slice (committed at once) before it touches the tree; `id` is
     * null when it stages no file. `staged`: what each staged file was found
     * to be (null: absent), for the applier, which need not look again.
     */
    begin (stagingDir: string, entries: readonly ManifestEntry[]): { id: number | null, staged: ReadonlyMap<string, Entry | null> } {
      const files: NotedFile[] = []
      const staged = new Map<string, Entry | null>()
      for (const entry of entries) {
        // A path the applier refuses (outside the tree, a NUL in it) is never put in place: nothing to note.
        if (entry.deleted || entry.kind !== 'file' || meshPathProblem(entry.path) !== null) continue
        let seen
        try {
          seen = lookAt(inTree(stagingDir, entry.path))
        } catch {
          continue // unreadable: the applier will not take it either
        }
        staged.set(entry.path, seen)
        if (seen?.type === 'file') files.push({ entry, key: seen.key })
      }
      const id = files.length === 0 ? null : store.beginApplying(path.relative(root, stagingDir), JSON.stringify(files))
      return { id, staged }
    },

    /** The staging directories (relative to the root) that notes not yet replayed still need. */
    needed (): Set<string> {
      return new Set(store.applying().map((n) => n.staging))
    },

    /** In the slice's own transaction: what it did is recorded, the note goes. */
    end (id: number | null): void {
      if (id !== null) store.endApplying(id)
    },

    /** Every note left (a crash, or a slice whose commit failed): what reached the tree is recorded; returns how many versions. */
    recover (): number {
      let recorded = 0
      for (const note of store.applying()) {
        try {
          recorded += store.transaction(() => {
            const n = replay(note.staging, JSON.parse(note.entries) as NotedFile[])
            store.endApplying(note.id)
            return n
          })
        } catch (err) {
          // Kept for the next try; the node serves meanwhile (at worst a file sent back, as before the journal).
          logger.error({ err, note: note.id }, 'a note of the applying journal could not be replayed')
        }
      }
      if (recorded > 0) logger.warn({ recorded }, 'versions a peer sent were in place without their rows (the process stopped while applying them): recorded now')
      return recorded
    },
  }
}
