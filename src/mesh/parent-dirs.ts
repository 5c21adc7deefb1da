import type { MeshStore } from '../db/mesh-store.js'
import type { LocalChanges } from './local-changes.js'
import type { ManifestEntry } from './manifest.js'
import path from 'node:path'
import type { KnownDirs } from './known-dirs.js'
import { inTree, makeParents } from './tree-fs.js'

/**
 * The directories a peer's version needs on the way to its path, made
 * here for it: recorded without a version of their own (the watcher's
 * report of them is then no local change), except where this node had
 * recorded the directory's deletion (see revive).
 */
export type ParentDirs = ReturnType<typeof createParentDirs>

export function createParentDirs (root: string, store: MeshStore, local: LocalChanges) {
  /** Makes the parents of `rel` for version `e`; returns those made where a deletion was recorded, for revive(). */
  function make (rel: string, e: ManifestEntry, known: KnownDirs): string[] {
    const revived: string[] = []
    // Its parent seen on the way (ancestorsAreDirectories): every parent is there (a mkdir that fails EEXIST costs a thrown error).
    if (known.has(path.dirname(inTree(root, rel)))) return revived
    for (const dir of makeParents(root, rel)) {
      known.made(inTree(root, dir))
      const prev = store.get(dir)
      if (prev?.deleted === true) {
        revived.push(dir)
        continue
      }
      store.put({ path: dir, kind: 'dir', deleted: false, vv: prev?.vv ?? '{}', seen: prev?.seen ?? null, dead: prev?.dead ?? null, hlc: e.hlc, origin: e.origin, size: null, mtimeNs: null, ino: null, copyOf: null })
    }
    return revived
  }

  /**
   * A directory whose deletion was recorded here, made again for a version
   * that deletion had not seen (update against delete: the directory comes
   * back everywhere), becomes a new local version of the directory. Given the
   * deletion's vector as a present row instead, it was a directory present
   * here and deleted elsewhere under one vector: stale both ways, for good.
   */
  function revive (dirs: readonly string[]): void {
    if (dirs.length > 0) local.scan(dirs)
  }

  return { make, revive }
}
