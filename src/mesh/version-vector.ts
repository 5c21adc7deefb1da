/**
 * Version vectors: one counter per node that changed a path. They decide
 * whether one version of a path has seen another (it dominates: apply it,
 * or drop the older one) or neither has (concurrent: a conflict, resolved
 * the same way on every node). Wall clocks never decide this; they only
 * order the winner of a conflict (see conflict-rule.ts).
 */
export type VersionVector = Readonly<Record<string, number>>

export type Order = 'equal' | 'before' | 'after' | 'concurrent'

/** How `a` relates to `b`: `before` means b has seen a (b dominates). */
export function compareVectors (a: VersionVector, b: VersionVector): Order {
  let aAhead = false
  let bAhead = false
  for (const node of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[node] ?? 0
    const y = b[node] ?? 0
    if (x > y) aAhead = true
    else if (y > x) bAhead = true
  }
  if (aAhead && bAhead) return 'concurrent'
  if (aAhead) return 'after'
  if (bAhead) return 'before'
  return 'equal'
}

/** What a node has seen after seeing both. */
export function mergeVectors (a: VersionVector, b: VersionVector): VersionVector {
  const merged: Record<string, number> = { ...a }
  for (const [node, counter] of Object.entries(b)) merged[node] = Math.max(merged[node] ?? 0, counter)
  return sortedVector(merged)
}

/**
 * A new local version: the node's own counter goes up, to at least `floor`
 * (the node's clock now). From the clock, a counter never repeats, even for
 * a path whose rows this node has forgotten (a tombstone dropped once every
 * peer had it): a version made there later still has seen nothing a peer
 * keeps for the path, so it is news to them, never old.
 */
export function bumpVector (v: VersionVector, node: string, floor = 0): VersionVector {
  return sortedVector({ ...v, [node]: Math.max((v[node] ?? 0) + 1, floor) })
}

/** Keys in order, so equal vectors serialise to equal strings on every node. */
function sortedVector (v: Record<string, number>): VersionVector {
  const out: Record<string, number> = {}
  for (const key of Object.keys(v).sort()) out[key] = v[key]!
  return out
}

/** Whether `value` is a vector a peer may send: node names mapped to positive safe integers. */
export function isVersionVector (value: unknown): value is VersionVector {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.entries(value).every(([k, n]) => k.length > 0 && k.length <= 64 && Number.isSafeInteger(n) && (n as number) > 0)
}
