import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import type { MeshFileRow, MeshStore } from '../db/mesh-store.js'
import type { PeerClient } from './peer-client.js'
import { compareVectors, type VersionVector } from './version-vector.js'

/**
 * Anti-entropy without destructive mirrors: two nodes compare digests of
 * what they hold (path, version vector, deleted) in 256 buckets, exchange
 * the entries of the buckets that differ, and each queues for the other
 * every version the other lacks (absent there, or older, or concurrent).
 * Nothing is ever deleted by a repair: a deletion travels only as a
 * tombstone, which the receiver applies by the usual rule (it removes only
 * a version the deleting node had seen). Each node repairs towards its
 * peers, so a pass in both directions converges the pair.
 */
export const BUCKETS = 256

export interface IndexEntry { path: string, vv: VersionVector, deleted: boolean }

export function bucketOf (path: string): number {
  return createHash('sha1').update(path).digest()[0]!
}

/** One digest per bucket over every row (tombstones included). */
export function digestRows (rows: readonly MeshFileRow[]): string[] {
  const byBucket: string[][] = Array.from({ length: BUCKETS }, () => [])
  for (const r of rows) byBucket[bucketOf(r.path)]!.push(`${r.path}\0${r.vv}\0${r.deleted ? 1 : 0}`)
  return byBucket.map((lines) => createHash('sha256').update(lines.sort().join('\n')).digest('hex').slice(0, 32))
}

export function indexOf (rows: readonly MeshFileRow[], buckets: ReadonlySet<number>): IndexEntry[] {
  return rows.filter((r) => buckets.has(bucketOf(r.path))).map((r) => ({ path: r.path, vv: JSON.parse(r.vv), deleted: r.deleted }))
}

/** The paths of `ours` (in `buckets`) whose version the peer, holding `theirs`, lacks. */
export function lackedBy (ours: readonly MeshFileRow[], theirs: readonly IndexEntry[], buckets: ReadonlySet<number>): string[] {
  const peer = new Map(theirs.map((e) => [e.path, e]))
  const lacked: string[] = []
  for (const row of ours) {
    if (!buckets.has(bucketOf(row.path))) continue
    const other = peer.get(row.path)
    if (other === undefined) {
      // A tombstone for a path the peer never had: nothing to repair.
      if (!row.deleted) lacked.push(row.path)
      continue
    }
    const order = compareVectors(JSON.parse(row.vv), other.vv)
    if (order === 'after' || order === 'concurrent') lacked.push(row.path)
  }
  return lacked
}

/** The buckets whose digests differ. */
export function differingBuckets (ours: readonly string[], theirs: readonly string[]): Set<number> {
  const out = new Set<number>()
  for (let i = 0; i < BUCKETS; i++) if (ours[i] !== theirs[i]) out.add(i)
  return out
}

export interface RepairResult { peer: string, queued: number, error?: string }

/** Compares this node with a peer (or every peer) and queues for it what it lacks. */
export function createRepairer (deps: {
  peers: ReadonlyArray<{ name: string, api: string }>
  client: PeerClient
  store: Pick<MeshStore, 'all'>
  /** Queues `paths` for `peer`; how many were not queued already (in flight, say). */
  owe: (paths: readonly string[], peer: string) => number
  wake: (peer: string) => void
  closed: () => boolean
  logger: Logger
}) {
  return async function repair (only?: string): Promise<RepairResult[]> {
    const results: RepairResult[] = []
    for (const peer of deps.peers) {
      if (deps.closed() || (only !== undefined && peer.name !== only)) continue
      try {
        const signal = AbortSignal.timeout(60_000)
        const theirs = await deps.client.digest(peer.api, signal)
        const buckets = differingBuckets(digestRows(deps.store.all()), theirs)
        let queued = 0
        if (buckets.size > 0) {
          const lacked = lackedBy(deps.store.all(), await deps.client.index(peer.api, [...buckets], signal), buckets)
          queued = deps.owe(lacked, peer.name)
          if (queued > 0) deps.logger.warn({ peer: peer.name, queued }, 'repair: the peer lacked versions this node holds; they are queued for it')
          deps.wake(peer.name)
        }
        results.push({ peer: peer.name, queued })
      } catch (err) {
        results.push({ peer: peer.name, queued: 0, error: (err as Error).message })
      }
    }
    return results
  }
}
