import { createHash, randomBytes } from 'node:crypto'

/**
 * The op log of a mesh churn run: every change a writer made, by the
 * version it removed and the version it wrote (the definitions of
 * anchors-mesh-measured.md, "Correctness: churn and down-node").
 *
 * Every file written starts with `uid=<unique id>\n` and random bytes, so
 * each version (a create, an append, an in-place overwrite) has its own
 * sha256, and any file found at the end traces to the op that wrote it,
 * under whatever name (renames, conflict copies).
 *
 * All writers run in this process and share one clock (timeOrigin + now),
 * so the op logs merge into one order.
 */

/** The seed of a run: SYNCPLANE_MESH_SEED replays one, otherwise a new one. */
export function meshSeed (): number {
  const fromEnv = process.env.SYNCPLANE_MESH_SEED
  if (fromEnv !== undefined && fromEnv !== '') return Number(fromEnv) >>> 0
  return randomBytes(4).readUInt32BE(0)
}

export const clock = (): number => performance.timeOrigin + performance.now()

export type OpKind = 'create' | 'append' | 'overwrite' | 'delete' | 'rename-file' | 'rename-dir' | 'mkdir' | 'rmtree' | 'rmdir' | 'forced'

/** A file version at a path, by content. */
export interface PathVersion { path: string, hash: string }

export interface Op {
  seq: number
  node: string
  kind: OpKind
  /** Shared clock, before the first and after the last system call of the op. */
  t0: number
  t1: number
  /** The path the op was aimed at. */
  path: string
  /** Versions the op left at a path (made, or moved there). */
  writes: PathVersion[]
  /** File versions the op took away from a path (deleted, or moved away). */
  removes: PathVersion[]
  /** Versions the op replaced or deleted (it had them on disk): they need not survive. Moves are not here. */
  consumed: string[]
  /** Directories it made or removed. */
  dirs?: { made?: string[], removed?: string[] }
  /** The forced conflict it belongs to. */
  forced?: number
}

export interface Version {
  hash: string
  uid: string | null
  /** The version it was made from (an append, an overwrite). */
  parent: string | null
  op: number
  node: string
}

export interface ForcedConflict {
  index: number
  path: string
  /** The two writers, in the order they wrote. */
  nodes: [string, string]
  delayMs: number
}

export interface OpLog {
  ops: Op[]
  versions: Map<string, Version>
  forced: ForcedConflict[]
  add (op: Omit<Op, 'seq'>, made?: Array<{ hash: string, uid: string | null, parent: string | null }>): Op
}

export function createOpLog (): OpLog {
  const ops: Op[] = []
  const versions = new Map<string, Version>()
  return {
    ops,
    versions,
    forced: [],
    add (op, made = []) {
      const full = { ...op, seq: ops.length }
      ops.push(full)
      for (const v of made) if (!versions.has(v.hash)) versions.set(v.hash, { ...v, op: full.seq, node: op.node })
      return full
    },
  }
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** The upload a file's bytes belong to: the `uid=` line every writer starts a file with. */
export const uidOf = (b: Buffer): string | null => {
  const nl = b.indexOf(10)
  const head = b.subarray(0, nl === -1 ? Math.min(b.length, 80) : nl).toString('latin1')
  return head.startsWith('uid=') ? head.slice(4) : null
}
