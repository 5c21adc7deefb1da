import { createHash, randomBytes } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { seededRandom } from '../test/helpers/churn.js'
import { sleep } from './common.js'

/**
 * The mesh churn and its oracle (the simple version of the anchors'): one
 * seeded writer per node, all at once, on the node's own tree; every file
 * it writes starts with a `uid=` line, so any file found at the end traces
 * back to the upload it came from, under any name on any node. Destructive
 * ops take the file first (a rename out of the tree, or an open descriptor)
 * and read its uid from what they took, so the log says exactly which
 * upload each of them removed. All writers share one clock (this process).
 *
 * Each append adds a line with an id of its own, so what an op took away
 * also says which appends it had seen.
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

/** Names with spaces, a leading dash, quotes, shell and glob characters, unicode and a leading dot. */
const NAMES = ['plain', 'with space', '-dash', 'ünï', 'q"uo\'te', '$(x)', 'star*', '.dot']

const WEIGHTS: Array<[Op['op'] | 'mkdir', number]> = [
  ['create', 30], ['append', 15], ['overwrite', 10], ['delete', 12], ['rename', 10], ['mkdir', 5], ['rmtree', 2],
]

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
function parseContent (bytes: Buffer): { uid: string | undefined, appends: string[] } {
  const text = bytes.toString('latin1')
  const end = text.indexOf('\n')
  const line = text.slice(0, end < 0 ? 80 : end)
  return { uid: line.startsWith('uid=') ? line.slice(4) : undefined, appends: [...text.matchAll(/\n\+a=([^\n]+)\n/g)].map((m) => m[1]!) }
}

const content = (uid: string, random: () => number): Buffer => {
  const body = Buffer.alloc(64 + Math.floor(random() * 2000))
  for (let i = 0; i < body.length; i++) body[i] = 97 + Math.floor(random() * 26)
  return Buffer.concat([Buffer.from(`uid=${uid}\n`), body])
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

/** The start state on node A: `dirs` directories with `files` files each, logged as A's creates. */
export async function seedTree (root: string, opts: { dirs: number, files: number, seed: number }): Promise<Op[]> {
  const random = seededRandom(opts.seed ^ 0x5eed)
  const ops: Op[] = []
  for (let d = 0; d < opts.dirs; d++) {
    await mkdir(path.join(root, `base${d}`), { recursive: true })
    for (let f = 0; f < opts.files; f++) {
      const rel = `base${d}/file${f}`
      const uid = `seed-${d}-${f}-${randomBytes(4).toString('hex')}`
      const bytes = content(uid, random)
      await writeFile(path.join(root, rel), bytes)
      ops.push({ t: performance.now(), node: 0, op: 'create', path: rel, uid, size: bytes.length })
    }
  }
  return ops
}

export interface ChurnOptions {
  roots: readonly string[]
  /** Per node, a directory on the same file system outside the tree (deletes are renames into it). */
  trash: readonly string[]
  internal: (rel: string) => boolean
  seed: number
  durationMs: number
  /** Pause between one writer's ops. */
  gapMs: number
  /** A forced conflict (the same new path on two nodes, 0–50 ms apart) this often. */
  conflictEveryMs: number
}

/** Every writer at once until `durationMs` is over; returns the op log, in the shared clock. */
export async function runChurn (opts: ChurnOptions): Promise<{ ops: Op[], skipped: number }> {
  const ops: Op[] = []
  let skipped = 0
  const ends = performance.now() + opts.durationMs
  let trashCounter = 0
  const trashName = (node: number): string => path.join(opts.trash[node]!, `t${trashCounter++}`)

  async function writer (node: number): Promise<void> {
    const root = opts.roots[node]!
    const random = seededRandom(opts.seed * 31 + node)
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
    let counter = 0
    const fresh = (): string => `${pick(NAMES)}-${node}-${counter++}`
    let files: string[] = []
    let dirs: string[] = ['']
    let listedAt = -Infinity
    const list = (): void => {
      const snap = snapshotTree(root, opts.internal, { hash: false })
      files = [...snap].filter(([p, e]) => e.type === 'file' && !/(^|\/)\.(syncthing|unison)\./.test(p)).map(([p]) => p)
      dirs = ['', ...[...snap].filter(([, e]) => e.type === 'dir').map(([p]) => p)]
      listedAt = performance.now()
    }
    const abs = (rel: string): string => path.join(root, rel)
    const total = WEIGHTS.reduce((s, [, w]) => s + w, 0)

    const create = async (rel: string, op: Op['op'] = 'create'): Promise<void> => {
      const uid = `${node}-${counter++}-${randomBytes(4).toString('hex')}`
      const bytes = content(uid, random)
      await writeFile(abs(rel), bytes, { flag: 'wx' })
      ops.push({ t: performance.now(), node, op, path: rel, uid, size: bytes.length })
      files.push(rel)
    }
    /** Takes `rel` out of the tree (one rename) and says which upload it was. */
    const take = async (rel: string): Promise<{ uid: string | undefined, appends: string[], size: number, at: string }> => {
      const at = trashName(node)
      await rename(abs(rel), at)
      return { ...(await readContent(at)), at }
    }

    const act: Record<Op['op'] | 'mkdir', () => Promise<void>> = {
      create: () => create(path.posix.join(pick(dirs), fresh())),
      conflict: async () => {},
      async append () {
        const rel = pick(files)
        const fh = await open(abs(rel), 'r+')
        try {
          const head = Buffer.alloc(80)
          const { bytesRead } = await fh.read(head, 0, 80, 0)
          const { size } = await fh.stat()
          const id = `${node}.${counter++}`
          const extra = Buffer.concat([Buffer.from(`\n+a=${id}\n`), Buffer.from(Array.from({ length: Math.floor(random() * 256) }, () => 97 + Math.floor(random() * 26)))])
          await fh.write(extra, 0, extra.length, size)
          ops.push({ t: performance.now(), node, op: 'append', path: rel, uid: parseContent(head.subarray(0, bytesRead)).uid, append: id, size: size + extra.length })
        } finally {
          await fh.close()
        }
      },
      async overwrite () {
        // In place, through one descriptor: what it read is what it overwrote.
        const rel = pick(files)
        const fh = await open(abs(rel), 'r+')
        try {
          const { size } = await fh.stat()
          const old = Buffer.alloc(size)
          const { bytesRead } = await fh.read(old, 0, size, 0)
          const was = parseContent(old.subarray(0, bytesRead))
          const uid = `${node}-${counter++}-${randomBytes(4).toString('hex')}`
          const bytes = content(uid, random)
          await fh.truncate(0)
          await fh.write(bytes, 0, bytes.length, 0)
          ops.push({ t: performance.now(), node, op: 'overwrite', path: rel, uid, size: bytes.length, removedUid: was.uid, removedAppends: was.appends, removedSize: size })
        } finally {
          await fh.close()
        }
      },
      async delete () {
        const rel = pick(files)
        const taken = await take(rel)
        ops.push({ t: performance.now(), node, op: 'delete', path: rel, removedUid: taken.uid, removedAppends: taken.appends, removedSize: taken.size })
        await rm(taken.at, { force: true })
        files = files.filter((f) => f !== rel)
      },
      async rename () {
        const from = pick(files)
        const to = path.posix.join(pick(dirs), fresh())
        await rename(abs(from), abs(to))
        const { uid, appends, size } = await readContent(abs(to)).catch(() => ({ uid: undefined, appends: [], size: -1 }))
        ops.push({ t: performance.now(), node, op: 'rename', from, path: to, uid, appends, size })
        files = files.map((f) => (f === from ? to : f))
      },
      async mkdir () {
        const rel = path.posix.join(pick(dirs), fresh())
        await mkdir(abs(rel))
        dirs.push(rel)
        const n = 1 + Math.floor(random() * 3)
        for (let i = 0; i < n; i++) await create(path.posix.join(rel, fresh()))
      },
      async rmtree () {
        const candidates = dirs.filter((d) => d !== '')
        if (candidates.length === 0) return
        const rel = pick(candidates)
        const at = trashName(node)
        await rename(abs(rel), at)
        const t = performance.now()
        for (const [p, e] of snapshotTree(at, () => false)) {
          if (e.type === 'file') ops.push({ t, node, op: 'rmtree', path: `${rel}/${p}`, removedUid: e.uid, removedAppends: e.appends, removedSize: e.size })
        }
        await rm(at, { recursive: true, force: true })
        dirs = dirs.filter((d) => d !== rel && !d.startsWith(`${rel}/`))
        files = files.filter((f) => !f.startsWith(`${rel}/`))
      },
    }

    while (performance.now() < ends) {
      if (performance.now() - listedAt > 500) list()
      let roll = random() * total
      let [name] = WEIGHTS.find(([, w]) => (roll -= w) < 0) ?? WEIGHTS[0]!
      if (files.length === 0 && name !== 'mkdir' && name !== 'rmtree') name = 'create'
      try {
        await act[name]()
      } catch {
        // The path moved under the writer (a peer's version, another writer's op): nothing was done.
        skipped++
        listedAt = -Infinity
      }
      await sleep(opts.gapMs)
    }
  }

  async function conflicts (): Promise<void> {
    const random = seededRandom(opts.seed * 131 + 7)
    let k = 0
    while (performance.now() + opts.conflictEveryMs < ends) {
      await sleep(opts.conflictEveryMs)
      const a = Math.floor(random() * opts.roots.length)
      const b = (a + 1 + Math.floor(random() * (opts.roots.length - 1))) % opts.roots.length
      const rel = `conflict-${k++}.txt`
      const write = async (node: number): Promise<void> => {
        const uid = `c${node}-${k}-${randomBytes(4).toString('hex')}`
        const bytes = content(uid, random)
        try {
          await writeFile(path.join(opts.roots[node]!, rel), bytes, { flag: 'wx' })
          ops.push({ t: performance.now(), node, op: 'conflict', path: rel, uid, size: bytes.length })
        } catch {
          skipped++
        }
      }
      const gap = Math.floor(random() * 50)
      await Promise.all([write(a), sleep(gap).then(() => write(b))])
    }
  }

  await Promise.all([...opts.roots.map((_, i) => writer(i)), conflicts()])
  return { ops, skipped }
}

async function readContent (file: string): Promise<{ uid: string | undefined, appends: string[], size: number }> {
  const bytes = await readFile(file)
  return { ...parseContent(bytes), size: bytes.length }
}
