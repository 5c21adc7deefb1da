import type { ManifestEntry } from './manifest.js'
import { meshPathProblem } from './mesh-paths.js'
import { inTree, linkOnTheWay, type Entry } from './tree-fs.js'
import { isVersionVector } from './version-vector.js'

/** The latest clock a version may carry: conflict copies are named by it (a date), and the clock moves past every one seen. */
const MAX_HLC = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/**
 * Why a peer's entry is refused before it is weighed, or null: a path
 * outside the tree, counters that cannot go up by one or a clock past any
 * date (either would stop this node's own versions for good), or a symlink
 * on the way in the tree or in the staging directory (the path, or the
 * bytes, would be outside the tree). The log line says which. `stagingRel`:
 * the batch's staging directory, relative to the root.
 */
export function entryProblem (root: string, stagingRel: string, e: ManifestEntry, look?: (abs: string) => Entry): string | null {
  const problem = meshPathProblem(e.path)
  if (problem !== null) return `a peer named a path outside the tree (${problem}): refused`
  if (!isVersionVector(e.vv) || (e.seen !== undefined && !isVersionVector(e.seen)) || (e.dead !== undefined && !isVersionVector(e.dead)) || !Number.isSafeInteger(e.hlc) || e.hlc < 0 || e.hlc > MAX_HLC) {
    return 'a peer sent a version vector or clock out of range: refused'
  }
  if (linkOnTheWay(root, e.path, look) || linkOnTheWay(root, inTree(stagingRel, e.path), look)) return 'a peer named a path through a symlink: refused'
  return null
}

/**
 * The order a batch is applied in: directories first (outermost first), then
 * conflict copies (a deletion or a version of the path they lost at may
 * bring one back, which must be here by then), then files, then deletions
 * innermost first. Indexes into `entries`.
 */
export function applyOrder (entries: readonly ManifestEntry[]): number[] {
  return entries.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || depthOf(a.e, b.e)).map(({ i }) => i)
}

const rank = (e: ManifestEntry): number => (e.deleted ? 3 : e.kind === 'dir' ? 0 : e.copyOf !== undefined ? 1 : 2)

function depthOf (a: ManifestEntry, b: ManifestEntry): number {
  const da = a.path.split('/').length
  const db = b.path.split('/').length
  return a.deleted ? db - da : da - db
}
