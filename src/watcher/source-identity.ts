import { statSync } from 'node:fs'
import path from 'node:path'

/**
 * What makes the source root the tree that was replicated: the directory
 * itself (device and inode), and whether a volume was mounted on it.
 * An unmounted volume leaves the bare mount point behind, a `mv` and `mkdir`
 * leave a new directory: both look like a tree whose files were all deleted.
 */
export interface RootIdentity {
  dev: number
  ino: number
  mountPoint: boolean
}

export const SOURCE_FAULT_KINDS = ['missing', 'unmounted', 'replaced', 'marker-missing'] as const
export type SourceFaultKind = typeof SOURCE_FAULT_KINDS[number]

export interface SourceFault {
  kind: SourceFaultKind
  /** For a person: what happened and what syncplane does about it. */
  message: string
}

/**
 * A fault that leaves a directory at the path (replaced, unmounted) lets
 * additions through but holds deletions; one that leaves nothing to read
 * (missing, marker missing) stops every run.
 */
export const blocksRuns = (fault: SourceFault | null): boolean =>
  fault !== null && (fault.kind === 'missing' || fault.kind === 'marker-missing')

/** The identity of the directory at `root` now, or null when there is none. */
export function readRootIdentity (root: string): RootIdentity | null {
  try {
    const st = statSync(root)
    if (!st.isDirectory()) return null
    const parent = statSync(path.dirname(root))
    return { dev: st.dev, ino: st.ino, mountPoint: st.dev !== parent.dev || st.ino === parent.ino }
  } catch {
    return null
  }
}

export function markerPresent (root: string, marker: string): boolean {
  try {
    statSync(path.join(root, marker))
    return true
  } catch {
    return false
  }
}

export interface JudgeInput {
  root: string
  marker: string | null
  /** The identity replication is bound to. */
  known: RootIdentity
  current: RootIdentity | null
  /** Whether the marker is there (ignored without a marker). */
  hasMarker: boolean
  /** Across a restart device numbers may change (tmpfs, renumbered disks): compare inode and mount only. */
  sameBoot: boolean
}

/** Whether the source is still the tree that was replicated, and if not, why not. */
export function judgeSource (input: JudgeInput): SourceFault | null {
  const { root, known, current } = input
  if (current === null) {
    return { kind: 'missing', message: `the source ${root} is gone (removed, moved away, or not a directory); nothing is sent or deleted until a directory is there again` }
  }
  if (known.mountPoint && !current.mountPoint) {
    return { kind: 'unmounted', message: `the source ${root} was a mount point and is not one any more (its volume was unmounted); new files there are sent, but every deletion is held until an operator confirms it` }
  }
  const sameDir = current.ino === known.ino && (!input.sameBoot || current.dev === known.dev)
  if (!sameDir) {
    return { kind: 'replaced', message: `the source ${root} is not the directory that was replicated (it was replaced, moved or remounted: inode ${known.ino} is now ${current.ino}); new files there are sent, but every deletion is held until an operator confirms it` }
  }
  if (input.marker !== null && !input.hasMarker) {
    return { kind: 'marker-missing', message: `the root marker ${path.join(root, input.marker)} is missing (a volume that did not mount looks like this); nothing is sent or deleted until it is back` }
  }
  return null
}
