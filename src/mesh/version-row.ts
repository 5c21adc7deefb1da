import type { MeshFileRow } from '../db/mesh-store.js'
import type { ManifestEntry } from './manifest.js'
import { compareVectors, mergeVectors, type VersionVector } from './version-vector.js'
import { wins } from './conflict-rule.js'

/** The held version's own vector: what a peer's version or deletion is weighed against. */
export const vvOf = (row: MeshFileRow): VersionVector => JSON.parse(row.vv)

/** Everything seen of the path here (the held version, and what it outlived or lost to): what is stale. */
export const seenOf = (row: MeshFileRow): VersionVector => JSON.parse(row.seen ?? row.vv)

/** The versions of the path known here to be overwritten or deleted somewhere. */
export const deadOf = (row: MeshFileRow | undefined): VersionVector => (row?.dead == null ? {} : JSON.parse(row.dead))

/**
 * What version `v` itself took over: a deletion, every version it had seen;
 * a version, those of other nodes it had seen (its own node's earlier ones
 * count through their counter: see covered).
 */
export const pastOf = (v: { vv: VersionVector, deleted: boolean, origin: string }): VersionVector => {
  if (v.deleted) return v.vv
  const { [v.origin]: _own, ...others } = v.vv
  return others
}

/** `dead` of a row that has met `e` (held, beside it or in its place). */
export const deadWith = (row: MeshFileRow | undefined, e: ManifestEntry): VersionVector => mergeVectors(mergeVectors(deadOf(row), e.dead ?? {}), pastOf(e))

/** `dead` as stored: null when empty. */
export const deadBeside = (dead: VersionVector): string | null => (Object.keys(dead).length === 0 ? null : JSON.stringify(mergeVectors(dead, {})))

/** All the sender had seen of the path: `e` and what it outlived there. */
export const knownOf = (e: ManifestEntry): VersionVector => (e.seen === undefined ? e.vv : mergeVectors(e.vv, e.seen))

/**
 * The sender had seen the version held here and holds `e`, which had not:
 * `e` outlived it (the sender deleted it, then `e` came; or `e` won their
 * conflict there, and its copy travels on its own). So it goes, as if `e`
 * had seen it, even where `e` itself is old news here (this node kept the
 * held one as the winner, not knowing it was deleted).
 */
export const outlives = (e: ManifestEntry, held: MeshFileRow): boolean => {
  if (e.seen === undefined || compareVectors(e.vv, vvOf(held)) !== 'concurrent') return false
  const order = compareVectors(vvOf(held), e.seen)
  if (order !== 'before' && order !== 'equal') return false
  // Unless this node has seen all the sender had: then what it holds came after (a deletion of `e` it met
  // here brought the held version back, say: reinstate.ts).
  const news = compareVectors(knownOf(e), seenOf(held))
  return news === 'after' || news === 'concurrent'
}

/**
 * The version a deletion `e` of `held` leaves at the path, of the ones `held`
 * beat here and kept as conflict copies (`copies`, still as they lost): those
 * `e` had not seen survive it (an update against a delete), as on a node that
 * met `e` before the winner, so the path must hold the one of them that wins
 * among the rest, or every node would not end alike. Undefined: none.
 */
export const survivorOf = (e: ManifestEntry, held: MeshFileRow, copies: readonly MeshFileRow[]): MeshFileRow | undefined => {
  const known = knownOf(e)
  const beaten = seenOf(held)
  const all = mergeVectors(known, beaten)
  const dead = deadWith(held, e)
  const notSeen = copies.filter((c) => c.kind === 'file' && !c.deleted && seenBy(vvOf(c), beaten) && !seenBy(vvOf(c), known) && !covered({ vv: vvOf(c), origin: c.origin }, all, dead))
  const latest = notSeen.filter((c) => !notSeen.some((o) => compareVectors(vvOf(c), vvOf(o)) === 'before'))
  return latest.reduce<MeshFileRow | undefined>((best, c) => (best === undefined || wins(c, best) ? c : best), undefined)
}

/**
 * Version `e` was overwritten or deleted by a node that had seen it, as
 * far as this node knows (`row`: what it holds of the path).
 */
export const deadHere = (e: ManifestEntry, row: MeshFileRow): boolean => covered(e, seenOf(row), deadOf(row))

/** The version `row` holds was overwritten or deleted, as far as the sender of `e` knew (not only beaten there). */
export const deadThere = (row: MeshFileRow, e: ManifestEntry): boolean => covered({ vv: vvOf(row), origin: row.origin }, knownOf(e), e.dead ?? {})

/**
 * A later version from its own node is known (a node's versions of a path
 * follow one another: its node had seen it), or `dead` covers it: it was
 * overwritten or deleted, whatever else it lost to, and never comes back.
 */
const covered = (v: { vv: VersionVector, origin: string }, seen: VersionVector, dead: VersionVector): boolean => {
  const own = v.vv[v.origin] ?? Infinity
  return (seen[v.origin] ?? 0) > own || (dead[v.origin] ?? 0) >= own
}

/** `by` has seen `v` (dominates it or is it). */
export const seenBy = (v: VersionVector, by: VersionVector): boolean => {
  const order = compareVectors(v, by)
  return order === 'before' || order === 'equal'
}

/**
 * `e` is old news here. If it is the very version held here, the row with
 * what its sender had seen beside it (a deletion of a version it beat, say)
 * added: a version that deletion removed must not come back here when this
 * one goes. Beside any other version that would not be safe: a sender's
 * tombstone can carry a later deletion of the version held here, which must
 * still be applied when it comes itself. What is dead stays dead, though:
 * each node's versions older than the latest of its own the sender had seen
 * (see covered) are added to `dead`, or one of them, deleted by its node and
 * known here only inside `e`, could come back from a peer that held it.
 * Undefined: nothing new.
 */
export const learned = (row: MeshFileRow, e: ManifestEntry): MeshFileRow | undefined => {
  if (row.deleted !== e.deleted || row.kind !== e.kind || compareVectors(e.vv, vvOf(row)) !== 'equal') {
    const dead = mergeVectors(deadWith(row, e), olderThanLatest(knownOf(e)))
    return compareVectors(dead, deadOf(row)) === 'equal' ? undefined : { ...row, dead: deadBeside(dead) }
  }
  const seen = seenOf(row)
  const merged = mergeVectors(knownOf(e), seen)
  const dead = deadWith(row, e)
  if (compareVectors(merged, seen) === 'equal' && compareVectors(dead, deadOf(row)) === 'equal') return undefined
  return { ...row, seen: seenBeside(vvOf(row), merged), dead: deadBeside(dead) }
}

/** As a `dead` vector, each node's versions before the latest of its own in `known`: that node overwrote or deleted each. */
const olderThanLatest = (known: VersionVector): VersionVector => Object.fromEntries(Object.entries(known).map(([node, n]) => [node, n - 1]))

/** `held`, kept, having met `e` (all seen here now: `merged`). */
export const keptAfter = (held: MeshFileRow, e: ManifestEntry, merged: VersionVector): MeshFileRow =>
  ({ ...held, seen: seenBeside(vvOf(held), merged), dead: deadBeside(deadWith(held, e)) })

/** `seen` as stored beside `vv`: null when it says no more. */
export const seenBeside = (vv: VersionVector, seen: VersionVector): string | null => (compareVectors(seen, vv) === 'equal' ? null : JSON.stringify(seen))

/** The stat a version is held with: a scan that finds another one records a new local version. */
export type RowKey = Pick<MeshFileRow, 'size' | 'mtimeNs' | 'ino'>

/** The row for a peer's version `e` held here, with all that is seen of the path now and the stat its copy here is held with. */
export const rowFor = (e: ManifestEntry, seen: VersionVector, dead: VersionVector, key: RowKey | null): MeshFileRow => ({
  path: e.path,
  kind: e.kind,
  deleted: e.deleted,
  vv: JSON.stringify(mergeVectors(e.vv, {})),
  seen: seenBeside(e.vv, seen),
  dead: deadBeside(dead),
  hlc: e.hlc,
  origin: e.origin,
  size: key?.size ?? null,
  mtimeNs: key?.mtimeNs ?? null,
  ino: key?.ino ?? null,
  copyOf: e.copyOf === undefined ? null : JSON.stringify(e.copyOf),
})

/** The entry a peer is sent for the version this row holds (the inverse of rowFor). */
export const entryOf = (row: MeshFileRow): ManifestEntry => ({
  path: row.path,
  kind: row.kind,
  deleted: row.deleted,
  vv: JSON.parse(row.vv),
  hlc: row.hlc,
  origin: row.origin,
  ...(row.copyOf === null ? {} : { copyOf: JSON.parse(row.copyOf) }),
  ...(row.seen === null ? {} : { seen: JSON.parse(row.seen) }),
  ...(row.dead === null ? {} : { dead: JSON.parse(row.dead) }),
})
