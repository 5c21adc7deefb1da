import type { MeshKind } from '../db/mesh-store.js'
import type { VersionVector } from './version-vector.js'

/**
 * One version a node announces to a peer. A present file's bytes were
 * pushed first into the peer's staging directory under the same path; a
 * directory or a deletion travels in the manifest alone (the mesh never
 * runs rsync --delete).
 */
export interface ManifestEntry {
  path: string
  kind: MeshKind
  deleted: boolean
  vv: VersionVector
  hlc: number
  origin: string
  /** On a conflict copy: the path it lost at and the node that won, so every node lists the conflict. */
  copyOf?: CopyOf | undefined
  /**
   * All the sender has seen of the path, when that is more than `vv`: the
   * versions it outlived (deleted, or beaten in a conflict whose copy
   * travels on its own). A receiver still holding one of them takes this
   * version over it; without this, a deletion the sender had made, then
   * replaced with a version it had not seen, would never reach it.
   */
  seen?: VersionVector | undefined
  /**
   * The versions of the path the sender knows were overwritten or deleted
   * by a node that had seen them (not only beaten in a conflict): a version
   * among them never comes back when a conflict's winner is deleted.
   */
  dead?: VersionVector | undefined
}

export interface CopyOf { path: string, winner: string }

export interface Manifest {
  /** The sending node. */
  from: string
  /** Its staging directory on the receiver: `.syncplane/staging/<from>/<batch>/`. */
  batch: string
  entries: ManifestEntry[]
}

/**
 * What the receiver did with one entry: `applied` (installed, deleted, or
 * kept beside its own as a conflict), `stale` (it already had this version
 * or a later one), `retry` (not now: the bytes were missing, the path is
 * blocked; the sender keeps it owed), `refused` (never: a path outside the
 * tree, a symlink on the way).
 */
export type EntryOutcome = 'applied' | 'stale' | 'retry' | 'refused'

export const ENTRY_OUTCOMES = ['applied', 'stale', 'retry', 'refused'] as const
