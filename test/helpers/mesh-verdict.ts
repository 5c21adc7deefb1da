import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { MeshNode } from './mesh.js'
import { sha256, uidOf, type Op, type OpLog, type Version } from './mesh-op-log.js'
import { listTree, MESH_DIR } from './mesh-writer.js'

/** The end state of a mesh churn run, judged by its op log: lost uploads, resurrected deletes, forced conflicts. */

export interface FinalFile { hash: string, uid: string | null, size: number }
/** One node's tree at the end (files only; directories as null). */
export type FinalTree = Map<string, FinalFile | null>

export async function readFinal (node: MeshNode): Promise<FinalTree> {
  const out: FinalTree = new Map()
  const listing = await listTree(node.root, (rel) => rel === MESH_DIR)
  for (const d of listing.dirs) out.set(d, null)
  for (const f of listing.files) {
    try {
      const b = await readFile(path.join(node.root, f))
      out.set(f, { hash: sha256(b), uid: uidOf(b), size: b.length })
    } catch {}
  }
  return out
}

export interface Verdict {
  ops: number
  uploads: number
  versions: number
  /** Uploads (uids) with a version no op removed, none of whose versions is anywhere at the end. */
  lost: string[]
  /** Versions no op replaced or removed whose exact bytes are nowhere at the end (their upload may survive in another version). */
  lostVersions: string[]
  resurrected: { onDeleter: string[], notPropagated: string[] }
  conflicts: { concurrent: number, ok: number, sequential: number, bad: string[] }
  conflictCopies: number
  /** Files whose bytes no op wrote (a torn transfer kept, say). */
  unknown: string[]
  /** Later of the two writes won, of the concurrent forced conflicts. */
  laterWon: number
  /** The paths of the violations (to look up in the nodes' databases). */
  suspects: string[]
}

const q = (s: string): string => JSON.stringify(s)

/** Judges the end state (one tree per node, by name) by the op log. */
export function judge (log: OpLog, finals: ReadonlyMap<string, FinalTree>): Verdict {
  const { versions } = log
  const consumed = new Set(log.ops.flatMap((o) => o.consumed))
  const present = new Map<string, string[]>()
  const presentUids = new Set<string>()
  for (const [node, tree] of finals) {
    for (const [p, f] of tree) {
      if (f === null) continue
      const at = present.get(f.hash) ?? []
      at.push(`${node}:${q(p)}`)
      present.set(f.hash, at)
      if (f.uid !== null && versions.has(f.hash)) presentUids.add(f.uid)
    }
  }
  const opText = (o: Op): string => `#${o.seq} ${o.node} ${o.kind} ${q(o.path)} t=${o.t0.toFixed(1)}..${o.t1.toFixed(1)}`
  const versionText = (v: Version): string => `${v.hash.slice(0, 12)} uid=${v.uid} by ${opText(log.ops[v.op]!)}`
  const historyOfUid = (uid: string | null): string => {
    const hashes = new Set([...versions.values()].filter((v) => v.uid === uid).map((v) => v.hash))
    return log.ops.filter((o) => o.writes.some((w) => hashes.has(w.hash)) || o.removes.some((r) => hashes.has(r.hash)) || o.consumed.some((h) => hashes.has(h)))
      .map((o) => `\n      ${opText(o)} writes=${o.writes.filter((w) => hashes.has(w.hash)).map((w) => `${q(w.path)}:${w.hash.slice(0, 8)}`).join(',')} removes=${o.removes.filter((r) => hashes.has(r.hash)).map((r) => `${q(r.path)}:${r.hash.slice(0, 8)}`).join(',')}`).join('')
  }

  const suspects = new Set<string>()
  const lostVersions: string[] = []
  const lostUids = new Map<string | null, Version[]>()
  for (const v of versions.values()) {
    if (consumed.has(v.hash) || present.has(v.hash)) continue
    lostVersions.push(versionText(v))
    for (const o of log.ops) for (const w of o.writes) if (w.hash === v.hash) suspects.add(w.path)
    if (v.uid === null || !presentUids.has(v.uid)) lostUids.set(v.uid, [...(lostUids.get(v.uid) ?? []), v])
  }
  const lost = [...lostUids.entries()].map(([uid, vs]) => `uid=${uid}: ${vs.map(versionText).join('; ')}; history:${historyOfUid(uid)}`)

  // Resurrected: per file path, the last op is a removal that had seen every version written there, yet the path is back.
  const ancestry = (hash: string): Set<string> => {
    const seen = new Set<string>()
    for (let h: string | null = hash; h !== null && !seen.has(h); h = versions.get(h)?.parent ?? null) seen.add(h)
    return seen
  }
  const events = new Map<string, Array<{ op: Op, hash: string, removal: boolean }>>()
  for (const op of log.ops) {
    for (const w of op.writes) events.set(w.path, [...(events.get(w.path) ?? []), { op, hash: w.hash, removal: false }])
    for (const r of op.removes) events.set(r.path, [...(events.get(r.path) ?? []), { op, hash: r.hash, removal: true }])
  }
  const resurrected = { onDeleter: [] as string[], notPropagated: [] as string[] }
  for (const [p, evs] of events) {
    const last = evs.reduce((a, b) => (b.op.t0 > a.op.t0 || (b.op.t0 === a.op.t0 && b.op.seq > a.op.seq) ? b : a))
    if (!last.removal) continue
    const seen = ancestry(last.hash)
    const before = evs.filter((e) => !e.removal && e.op.t0 < last.op.t1)
    if (!before.every((e) => seen.has(e.hash))) continue
    const at = [...finals].filter(([, tree]) => tree.has(p)).map(([node]) => node)
    if (at.length === 0) continue
    const text = `${q(p)} removed by ${opText(last.op)} (it had ${last.hash.slice(0, 12)}), present on ${at.join(',')}: ${at.map((n) => finals.get(n)!.get(p)?.hash.slice(0, 12) ?? 'dir').join(',')}; ops at the path:${evs.map((e) => `\n      ${opText(e.op)} ${e.removal ? 'removes' : 'writes'} ${e.hash.slice(0, 12)}`).join('')}`
    suspects.add(p)
    if (at.includes(last.op.node)) resurrected.onDeleter.push(text)
    else resurrected.notPropagated.push(text)
  }

  // Forced conflicts: one winner at the path, one copy of the other beside it, the same on every node.
  const conflicts = { concurrent: 0, ok: 0, sequential: 0, bad: [] as string[] }
  let laterWon = 0
  for (const f of log.forced) {
    const writes = log.ops.filter((o) => o.forced === f.index).sort((a, b) => a.t0 - b.t0)
    const dir = path.posix.dirname(f.path)
    const base = path.posix.basename(f.path)
    const dot = base.lastIndexOf('.')
    const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, '']
    const copyRe = new RegExp(`^${escapeRe(stem)}\\.sync-conflict-\\d{8}-\\d{6}-\\d{3}-([^/]+)${escapeRe(ext)}$`)
    const problems: string[] = []
    for (const [node, tree] of finals) {
      const atPath = tree.get(f.path)
      const copies = [...tree.keys()].filter((k) => path.posix.dirname(k) === dir && copyRe.test(path.posix.basename(k)))
      const hashes = writes.map((w) => w.writes[0]!.hash)
      if (writes.length !== 2) {
        problems.push(`${node}: ${writes.length} of its 2 writes happened`)
        continue
      }
      const sequential = writes.some((w) => w.consumed.length > 0)
      if (sequential) {
        // The second writer found the first's version there and overwrote it: no conflict, the overwrite stands.
        const later = writes.find((w) => w.consumed.length > 0)!
        if (atPath?.hash !== later.writes[0]!.hash) problems.push(`${node}: the overwrite ${later.writes[0]!.hash.slice(0, 12)} is not at the path (${atPath?.hash.slice(0, 12) ?? 'absent'})`)
        if (copies.length > 0) problems.push(`${node}: copies ${copies.map(q).join(', ')} of a sequential write`)
        continue
      }
      if (atPath === undefined || atPath === null || !hashes.includes(atPath.hash)) {
        problems.push(`${node}: the path holds ${atPath === undefined ? 'nothing' : atPath === null ? 'a directory' : atPath.hash.slice(0, 12)}, neither version`)
        continue
      }
      if (copies.length !== 1) {
        problems.push(`${node}: ${copies.length} conflict copies (${copies.map(q).join(', ')})`)
        continue
      }
      const loser = writes.find((w) => w.writes[0]!.hash !== atPath.hash)!
      const copy = tree.get(copies[0]!)
      if (copy?.hash !== loser.writes[0]!.hash) problems.push(`${node}: the copy ${q(copies[0]!)} holds ${copy?.hash.slice(0, 12)}, not the losing version ${loser.writes[0]!.hash.slice(0, 12)}`)
      const named = copyRe.exec(path.posix.basename(copies[0]!))![1]
      if (named !== loser.node) problems.push(`${node}: the copy ${q(copies[0]!)} names ${named}, the loser was written on ${loser.node}`)
    }
    const sequential = writes.length === 2 && writes.some((w) => w.consumed.length > 0)
    if (sequential) conflicts.sequential++
    else conflicts.concurrent++
    const firstTree = finals.values().next().value
    if (!sequential && writes.length === 2 && firstTree?.get(f.path)?.hash === writes[1]!.writes[0]!.hash) laterWon++
    if (problems.length === 0) {
      if (!sequential) conflicts.ok++
    } else {
      suspects.add(f.path)
      conflicts.bad.push(`forced #${f.index} ${q(f.path)} on ${f.nodes.join(' then ')} ${f.delayMs.toFixed(0)} ms apart: ${problems.join('; ')}; writes: ${writes.map((w) => `${opText(w)} ${w.writes[0]!.hash.slice(0, 12)}`).join(', ')}`)
    }
  }

  const unknown: string[] = []
  let conflictCopies = 0
  const firstTree = [...finals][0]
  for (const [node, tree] of finals) {
    for (const [p, f] of tree) {
      if (f === null) continue
      if (node === firstTree?.[0] && p.includes('.sync-conflict-')) conflictCopies++
      if (!versions.has(f.hash)) suspects.add(p)
      if (!versions.has(f.hash)) unknown.push(`${node}:${q(p)} ${f.size} bytes, uid=${f.uid} ${f.hash.slice(0, 12)}`)
    }
  }
  return {
    ops: log.ops.length,
    uploads: [...versions.values()].filter((v) => v.parent === null || versions.get(v.parent)?.uid !== v.uid).length,
    versions: versions.size,
    lost,
    lostVersions,
    resurrected,
    conflicts,
    conflictCopies,
    unknown,
    laterWon,
    suspects: [...suspects],
  }
}

function escapeRe (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The figures of a verdict on one line, and every violation below it. */
export function describeVerdict (v: Verdict): string {
  const lines = [
    `ops ${v.ops}, uploads ${v.uploads}, versions ${v.versions}; lost ${v.lost.length} (versions ${v.lostVersions.length}); ` +
    `resurrected ${v.resurrected.onDeleter.length + v.resurrected.notPropagated.length} (on deleter ${v.resurrected.onDeleter.length} / not propagated ${v.resurrected.notPropagated.length}); ` +
    `forced conflicts: ${v.conflicts.ok}/${v.conflicts.concurrent} concurrent kept both (later write won ${v.laterWon}), ${v.conflicts.sequential} sequential, ${v.conflicts.bad.length} wrong; ` +
    `conflict copies in the tree ${v.conflictCopies}; unknown content ${v.unknown.length}`,
  ]
  const section = (title: string, items: string[]): void => {
    if (items.length > 0) lines.push(`${title} (${items.length}):`, ...items.map((i) => `  - ${i}`))
  }
  section('LOST uploads', v.lost)
  section('lost versions', v.lostVersions)
  section('RESURRECTED on the deleter', v.resurrected.onDeleter)
  section('RESURRECTED elsewhere (delete not propagated)', v.resurrected.notPropagated)
  section('WRONG forced conflicts', v.conflicts.bad)
  section('UNKNOWN content', v.unknown)
  return lines.join('\n')
}
