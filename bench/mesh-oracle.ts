import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/**
 * The oracle of the mesh churn (the simple version of the anchors'), over
 * the op log the writers keep (mesh-churn.ts) and the trees at the end.
 *
 * Lost: an upload no op removed that is on no node at the end.
 * Resurrected: a file path whose last op removed it, having seen every
 * write at that path before it (each an ancestor of what it removed,
 * through overwrites, with the appends it read), yet present at the end;
 * counted on the deleter, or only on the others (the delete did not
 * propagate). A removal that raced a write it had not seen rightly loses
 * to it (an update beats a concurrent delete).
 */

export interface Op {
  t: number
  node: number
  op: 'create' | 'append' | 'overwrite' | 'delete' | 'rename' | 'rmtree' | 'conflict'
  path: string
  /** The upload now at `path` (after a write) and its size. */
  uid?: string
  size?: number
  /** An append's id; a rename's: the appends the moved file holds. */
  append?: string
  appends?: string[]
  /** What the op took away from `path` (delete, overwrite, rename's source, rmtree), with the appends it held. */
  removedUid?: string
  removedSize?: number
  removedAppends?: string[]
  /** Rename: where from. */
  from?: string
}

export interface TreeEntry { type: 'file' | 'dir' | 'other', hash?: string, uid?: string, appends?: string[], size?: number }
export type TreeSnapshot = Map<string, TreeEntry>
/** Every entry of `root` but the system's own; files with their sha1 and uid. */
export function snapshotTree (root: string, internal: (rel: string) => boolean, opts: { hash?: boolean } = {}): TreeSnapshot {
  const out: TreeSnapshot = new Map()
  const walk = (rel: string): void => {
    let names: string[]
    try {
      names = readdirSync(rel === '' ? root : path.join(root, rel))
    } catch {
      return
    }
    for (const name of names) {
      const child = rel === '' ? name : `${rel}/${name}`
      if (internal(child)) continue
      const abs = path.join(root, child)
      try {
        const st = lstatSync(abs)
        if (st.isDirectory()) {
          out.set(child, { type: 'dir' })
          walk(child)
        } else if (st.isFile()) {
          if (opts.hash === false) {
            out.set(child, { type: 'file', size: st.size })
            continue
          }
          const bytes = readFileSync(abs)
          out.set(child, { type: 'file', size: bytes.length, hash: createHash('sha1').update(bytes).digest('hex'), ...parseContent(bytes) })
        } else {
          out.set(child, { type: 'other' })
        }
      } catch {
        // Gone meanwhile.
      }
    }
  }
  walk('')
  return out
}

/** The upload a file came from (its first line) and the appends it holds (lines `+a=ID`; the random bytes are letters only). */
export function parseContent (bytes: Buffer): { uid: string | undefined, appends: string[] } {
  const text = bytes.toString('latin1')
  const end = text.indexOf('\n')
  const line = text.slice(0, end < 0 ? 80 : end)
  return { uid: line.startsWith('uid=') ? line.slice(4) : undefined, appends: [...text.matchAll(/\n\+a=([^\n]+)\n/g)].map((m) => m[1]!) }
}

/** Paths that differ between the nodes (missing on one, or other content or type). */
export function differingPaths (snaps: readonly TreeSnapshot[]): string[] {
  const all = new Set(snaps.flatMap((s) => [...s.keys()]))
  return [...all].filter((p) => {
    const first = snaps[0]!.get(p)
    return snaps.some((s) => {
      const e = s.get(p)
      return e === undefined || first === undefined || e.type !== first.type || e.hash !== first.hash
    })
  })
}

export interface ChurnVerdict {
  ops: number
  uploads: number
  differing: number
  lost: number
  lostExamples: string[]
  resurrected: number
  resurrectedOnDeleter: number
  resurrectedNotPropagated: number
  resurrectedExamples: string[]
  /** Each example's ops at the path and what is there at the end. */
  resurrectedDetails: string[]
  /** Files that are conflict copies by name (any system's naming). */
  conflictCopies: number
}

const isWrite = (o: Op): boolean => o.op === 'create' || o.op === 'append' || o.op === 'overwrite' || o.op === 'conflict' || o.op === 'rename'

interface PathEvent { t: number, node: number, write: boolean, uid?: string | undefined, append?: string | undefined, appends?: string[] | undefined }

/** The oracle over the op log and the trees at the end. */
export function judge (ops: readonly Op[], snaps: readonly TreeSnapshot[]): ChurnVerdict {
  const uploads = new Set<string>()
  const removed = new Set<string>()
  for (const o of ops) {
    if ((o.op === 'create' || o.op === 'overwrite' || o.op === 'conflict') && o.uid !== undefined) uploads.add(o.uid)
    if (o.op !== 'rename' && o.removedUid !== undefined) removed.add(o.removedUid)
  }
  const found = new Set<string>()
  for (const s of snaps) for (const e of s.values()) if (e.uid !== undefined) found.add(e.uid)
  const lost = [...uploads].filter((u) => !removed.has(u) && !found.has(u))

  // Per path, in time order: writes put an upload there (or an append to one), removals take one away.
  const byPath = new Map<string, PathEvent[]>()
  const add = (p: string, e: PathEvent): void => {
    const list = byPath.get(p) ?? []
    list.push(e)
    byPath.set(p, list)
  }
  for (const o of ops) {
    if (o.op === 'rename') {
      add(o.from!, { t: o.t, node: o.node, write: false, uid: o.uid, appends: o.appends })
      add(o.path, { t: o.t, node: o.node, write: true, uid: o.uid, appends: o.appends })
    } else if (isWrite(o)) {
      add(o.path, { t: o.t, node: o.node, write: true, uid: o.uid, append: o.append, appends: o.appends })
    } else {
      add(o.path, { t: o.t, node: o.node, write: false, uid: o.removedUid, appends: o.removedAppends })
    }
  }
  // Lineage: an overwrite's upload descends from the one it overwrote, having seen the appends it read there.
  const parent = new Map<string, { uid: string, appends: ReadonlySet<string> }>()
  for (const o of ops) if (o.op === 'overwrite' && o.uid !== undefined && o.removedUid !== undefined) parent.set(o.uid, { uid: o.removedUid, appends: new Set(o.removedAppends) })
  /** Every upload a removal of `uid` (holding `appends`) has seen, with the appends of each it saw. */
  const history = (uid: string | undefined, appends: readonly string[] | undefined): Map<string, ReadonlySet<string>> => {
    const out = new Map<string, ReadonlySet<string>>()
    let u = uid
    let seen: ReadonlySet<string> = new Set(appends)
    while (u !== undefined && !out.has(u)) {
      out.set(u, seen)
      const up = parent.get(u)
      u = up?.uid
      seen = up?.appends ?? new Set()
    }
    return out
  }
  let onDeleter = 0
  let notPropagated = 0
  const resurrectedExamples: string[] = []
  const resurrectedDetails: string[] = []
  for (const [p, list] of byPath) {
    list.sort((a, b) => a.t - b.t)
    const last = list.at(-1)!
    if (last.write) continue
    const seen = history(last.uid, last.appends)
    const sawWrite = (e: PathEvent): boolean => {
      const appends = e.uid === undefined ? undefined : seen.get(e.uid)
      if (appends === undefined) return false
      if (e.append !== undefined) return appends.has(e.append)
      return (e.appends ?? []).every((a) => appends.has(a))
    }
    if (!list.slice(0, -1).every((e) => !e.write || sawWrite(e))) continue
    const present = snaps.map((s) => s.get(p)?.type === 'file')
    if (!present.some(Boolean)) continue
    if (present[last.node]) onDeleter++
    else notPropagated++
    if (resurrectedExamples.length < 5) resurrectedExamples.push(JSON.stringify(p))
    if (resurrectedDetails.length < 5) {
      const t0 = list[0]!.t
      const label = (e: PathEvent): string => `${e.uid}${e.append === undefined ? '' : `+${e.append}`}${e.appends === undefined || e.appends.length === 0 ? '' : `[${e.appends.join(',')}]`}`
      resurrectedDetails.push(`${JSON.stringify(p)}: ${list.map((e) => `${((e.t - t0) / 1000).toFixed(3)}s n${e.node} ${e.write ? 'write' : 'remove'} ${label(e)}`).join(', ')}; ` +
        `at the end: ${snaps.map((s, i) => `n${i} ${s.get(p)?.uid ?? '-'}[${s.get(p)?.appends?.join(',') ?? ''}]`).join(' ')}`)
    }
  }
  const conflictCopies = [...snaps[0]!.keys()].filter((p) => /sync-conflict|\(conflict/.test(path.posix.basename(p))).length
  return {
    ops: ops.length,
    uploads: uploads.size,
    differing: differingPaths(snaps).length,
    lost: lost.length,
    lostExamples: lost.slice(0, 5),
    resurrected: onDeleter + notPropagated,
    resurrectedOnDeleter: onDeleter,
    resurrectedNotPropagated: notPropagated,
    resurrectedExamples,
    resurrectedDetails,
    conflictCopies,
  }
}
