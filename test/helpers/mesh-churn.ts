import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rmdir, unlink, writeFile, lstat } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import path from 'node:path'
import { seededRandom } from './churn.js'
import { descendantPids } from './managed-process.js'
import type { MeshNode } from './mesh.js'

/**
 * A concurrent writer per mesh node with an op log, and the oracle that
 * judges the mesh by it (the definitions of anchors-mesh-measured.md,
 * "Correctness: churn and down-node").
 *
 * Every file written starts with `uid=<unique id>\n` and random bytes, so
 * each version (a create, an append, an in-place overwrite) has its own
 * sha256, and any file found at the end traces to the op that wrote it,
 * under whatever name (renames, conflict copies). Every op that removes or
 * changes a file first learns exactly which version it removes: deletes
 * rename the file out of the tree (into the node's graveyard, on the same
 * file system) and read it there, appends and overwrites read the file
 * through the descriptor they then write with. So "what the node had seen"
 * is what was on its disk, never what the writer believed.
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

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const uidOf = (b: Buffer): string | null => {
  const nl = b.indexOf(10)
  const head = b.subarray(0, nl === -1 ? Math.min(b.length, 80) : nl).toString('latin1')
  return head.startsWith('uid=') ? head.slice(4) : null
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const errCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err)
/** Errors a writer meets because the tree changed under it (a peer's delete or rename): the op simply missed. */
const MISSES = new Set(['ENOENT', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY', 'EISDIR', 'EINVAL'])

const NAME_FORMS: ReadonlyArray<(id: string) => string> = [
  (id) => `plain-${id}.bin`,
  (id) => `with space ${id}.txt`,
  (id) => `new\nline-${id}`,
  (id) => `tab\there-${id}.dat`,
  (id) => `-dash-${id}`,
  (id) => `--rsh=x ${id}`,
  (id) => `ünïcødé-ñ-${id}.txt`.normalize('NFC'),
  (id) => `star*?[${id}].txt`,
  (id) => `back\\slash-${id}`,
  (id) => `quo"te'-${id}.md`,
  (id) => `$(touch pwned)-${id}`,
  (id) => `.dot-${id}`,
  (id) => `trailing-${id} `,
  (id) => `${'L'.repeat(Math.max(1, 185 - id.length - 3))}-${id}.x`,
]

/** What a node's writer does to its tree, with the op log it shares with the others. */
export interface NodeWriter {
  node: MeshNode
  /** Where deleted files go (outside the tree, same file system) to be read. */
  graveyard: string
  random: () => number
  /** Fresh names: node name and a counter. */
  freshId (): string
  create (rel: string, size?: number): Promise<Op | null>
  append (rel: string): Promise<Op | null>
  overwrite (rel: string): Promise<Op | null>
  remove (rel: string, kind?: 'delete' | 'rmtree'): Promise<Op | null>
  move (from: string, to: string): Promise<Op | null>
  mkdir (rel: string): Promise<Op | null>
  rmdir (rel: string): Promise<Op | null>
  /** The same new path written on several nodes: a plain create, or an overwrite if another's version is already there. */
  forcedWrite (rel: string, index: number): Promise<Op | null>
}

function randomContent (random: () => number, uid: string, size?: number): Buffer {
  const roll = random()
  const n = size ?? (roll < 0.9 ? 64 + Math.floor(random() * 8_000) : roll < 0.98 ? 16_384 + Math.floor(random() * 112_000) : 262_144 + Math.floor(random() * 786_432))
  return Buffer.concat([Buffer.from(`uid=${uid}\n`), randomBytes(n)])
}

export function nodeWriter (node: MeshNode, log: OpLog, seed: number): NodeWriter {
  const graveyard = path.join(path.dirname(node.root), 'graveyard')
  const random = seededRandom(seed)
  const abs = (rel: string): string => path.join(node.root, rel)
  let counter = 0
  let buried = 0
  const freshId = (): string => `${node.name}-${counter++}`
  const grave = async (): Promise<string> => {
    await mkdir(graveyard, { recursive: true })
    return path.join(graveyard, String(buried++))
  }

  /** Every file below `dir` (absolute), with its content: [relative path, content]. */
  async function readAll (dir: string, rel = ''): Promise<{ files: Array<[string, Buffer]>, dirs: string[] }> {
    const out = { files: [] as Array<[string, Buffer]>, dirs: [] as string[] }
    let entries
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true })
    } catch {
      return out
    }
    for (const e of entries) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.isDirectory()) {
        out.dirs.push(child)
        const below = await readAll(dir, child)
        out.files.push(...below.files)
        out.dirs.push(...below.dirs)
      } else if (e.isFile()) {
        try {
          out.files.push([child, await readFile(path.join(dir, child))])
        } catch {}
      }
    }
    return out
  }

  /** Opens `rel`, reads it whole through the descriptor, then lets `change` write through it. */
  async function rewrite (rel: string, kind: 'append' | 'overwrite', forced?: number): Promise<Op | null> {
    const t0 = clock()
    let fh
    try {
      fh = await open(abs(rel), 'r+')
    } catch (err) {
      if (MISSES.has(errCode(err))) return null
      throw err
    }
    try {
      if (!(await fh.stat()).isFile()) return null
      const old = await fh.readFile()
      const oldHash = sha256(old)
      let next: Buffer
      let uid: string | null
      if (kind === 'append') {
        const extra = randomBytes(16 + Math.floor(random() * 2_000))
        await fh.write(extra, 0, extra.length, old.length)
        next = Buffer.concat([old, extra])
        uid = uidOf(old)
      } else {
        uid = freshId()
        next = randomContent(random, uid)
        await fh.truncate(0)
        await fh.write(next, 0, next.length, 0)
      }
      const hash = sha256(next)
      return log.add({ node: node.name, kind: forced === undefined ? kind : 'forced', t0, t1: clock(), path: rel, writes: [{ path: rel, hash }], removes: [], consumed: [oldHash], ...(forced === undefined ? {} : { forced }) },
        [{ hash, uid, parent: oldHash }])
    } finally {
      await fh.close()
    }
  }

  async function create (rel: string, size?: number, forced?: number): Promise<Op | null> {
    const uid = freshId()
    const content = randomContent(random, uid, size)
    const t0 = clock()
    try {
      await writeFile(abs(rel), content, { flag: 'wx' })
    } catch (err) {
      if (forced !== undefined && errCode(err) === 'EEXIST') return await rewrite(rel, 'overwrite', forced)
      if (MISSES.has(errCode(err))) return null
      throw err
    }
    const hash = sha256(content)
    return log.add({ node: node.name, kind: forced === undefined ? 'create' : 'forced', t0, t1: clock(), path: rel, writes: [{ path: rel, hash }], removes: [], consumed: [], ...(forced === undefined ? {} : { forced }) },
      [{ hash, uid, parent: null }])
  }

  /** Takes `rel` out of the tree in one rename, then reads what it took. */
  async function takeOut (rel: string): Promise<{ t0: number, t1: number, files: Array<[string, Buffer]>, dirs: string[], wasDir: boolean } | null> {
    const to = await grave()
    const t0 = clock()
    try {
      await rename(abs(rel), to)
    } catch (err) {
      if (MISSES.has(errCode(err))) return null
      throw err
    }
    const t1 = clock()
    const st = await lstat(to)
    if (st.isDirectory()) {
      const all = await readAll(to)
      return { t0, t1, files: all.files.map(([r, b]) => [`${rel}/${r}`, b]), dirs: [rel, ...all.dirs.map((d) => `${rel}/${d}`)], wasDir: true }
    }
    const files: Array<[string, Buffer]> = st.isFile() ? [[rel, await readFile(to)]] : []
    await unlink(to)
    return { t0, t1, files, dirs: [], wasDir: false }
  }

  /**
   * A file: renamed out and read. A directory (`rmtree`): emptied bottom-up
   * the way rm -rf does, each file renamed out and read; a file a peer puts
   * in meanwhile is found on the next pass.
   */
  async function remove (rel: string, kind: 'delete' | 'rmtree' = 'delete'): Promise<Op | null> {
    let st
    try {
      st = await lstat(abs(rel))
    } catch (err) {
      if (MISSES.has(errCode(err))) return null
      throw err
    }
    if (!st.isDirectory()) {
      const out = await takeOut(rel)
      if (out === null) return null
      const removes = out.files.map(([p, b]) => ({ path: p, hash: sha256(b) }))
      return log.add({ node: node.name, kind, t0: out.t0, t1: out.t1, path: rel, writes: [], removes, consumed: removes.map((r) => r.hash), dirs: { removed: out.dirs } })
    }
    const t0 = clock()
    const removes: PathVersion[] = []
    const removed: string[] = []
    for (let pass = 0; pass < 5; pass++) {
      const listing = await listTree(abs(rel))
      for (const f of listing.files) {
        const out = await takeOut(`${rel}/${f}`)
        if (out !== null) removes.push(...out.files.map(([p, b]) => ({ path: p, hash: sha256(b) })))
        if (out !== null && out.wasDir) removed.push(...out.dirs)
      }
      for (const d of [...listing.dirs.reverse(), '']) {
        const dirRel = d === '' ? rel : `${rel}/${d}`
        try {
          await rmdir(abs(dirRel))
          removed.push(dirRel)
        } catch (err) {
          if (!MISSES.has(errCode(err))) throw err
        }
      }
      if (removed.includes(rel)) break
    }
    return log.add({ node: node.name, kind, t0, t1: clock(), path: rel, writes: [], removes, consumed: removes.map((r) => r.hash), dirs: { removed } })
  }

  /** A rename (file or directory); what moved is read at its new place (a fresh name nobody else writes). */
  async function move (from: string, to: string): Promise<Op | null> {
    const t0 = clock()
    try {
      await rename(abs(from), abs(to))
    } catch (err) {
      if (MISSES.has(errCode(err))) return null
      throw err
    }
    const t1 = clock()
    const st = await lstat(abs(to)).catch(() => null)
    if (st === null) return null
    const writes: PathVersion[] = []
    const removes: PathVersion[] = []
    let dirs: Op['dirs']
    if (st.isDirectory()) {
      const all = await readAll(abs(to))
      for (const [r, b] of all.files) {
        const hash = sha256(b)
        writes.push({ path: `${to}/${r}`, hash })
        removes.push({ path: `${from}/${r}`, hash })
      }
      dirs = { made: [to, ...all.dirs.map((d) => `${to}/${d}`)], removed: [from, ...all.dirs.map((d) => `${from}/${d}`)] }
    } else if (st.isFile()) {
      const hash = sha256(await readFile(abs(to)))
      writes.push({ path: to, hash })
      removes.push({ path: from, hash })
    }
    return log.add({ node: node.name, kind: st.isDirectory() ? 'rename-dir' : 'rename-file', t0, t1, path: from, writes, removes, consumed: [], ...(dirs === undefined ? {} : { dirs }) })
  }

  return {
    node,
    graveyard,
    random,
    freshId,
    create: (rel, size) => create(rel, size),
    append: (rel) => rewrite(rel, 'append'),
    overwrite: (rel) => rewrite(rel, 'overwrite'),
    remove,
    move,
    async mkdir (rel) {
      const t0 = clock()
      try {
        await mkdir(abs(rel))
      } catch (err) {
        if (MISSES.has(errCode(err))) return null
        throw err
      }
      return log.add({ node: node.name, kind: 'mkdir', t0, t1: clock(), path: rel, writes: [], removes: [], consumed: [], dirs: { made: [rel] } })
    },
    async rmdir (rel) {
      const t0 = clock()
      try {
        await rmdir(abs(rel))
      } catch (err) {
        if (MISSES.has(errCode(err))) return null
        throw err
      }
      return log.add({ node: node.name, kind: 'rmdir', t0, t1: clock(), path: rel, writes: [], removes: [], consumed: [], dirs: { removed: [rel] } })
    },
    forcedWrite: (rel, index) => create(rel, 200 + Math.floor(random() * 4_000), index),
  }
}

/** Files and directories below `dir` (absolute), relative to it; directories parents first. */
async function listTree (dir: string, skip: (rel: string) => boolean = () => false): Promise<{ files: string[], dirs: string[] }> {
  const out = { files: [] as string[], dirs: [] as string[] }
  const walk = async (rel: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(rel === '' ? dir : path.join(dir, rel), { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`
      if (skip(child)) continue
      if (e.isDirectory()) {
        out.dirs.push(child)
        await walk(child)
      } else if (e.isFile()) {
        out.files.push(child)
      }
    }
  }
  await walk('')
  return out
}

export interface ChurnOptions {
  seed: number
  durationMs: number
  /** Forced conflicts spread over the run, written into `conflictDir`. */
  conflicts: number
  conflictDir?: string
  /** Top-level names the writers leave alone (the forced conflicts', a test's own files). */
  reserved?: readonly string[]
  /** Pause between two ops of one writer. */
  gapMs?: readonly [number, number]
}

export interface ChurnStats {
  ops: number
  byKind: Record<string, number>
  /** Ops that found their target gone (a peer deleted or moved it first). */
  misses: number
  errors: string[]
}

const MESH_DIR = '.syncplane'
const MAX_DEPTH = 4
const depth = (rel: string): number => (rel === '' ? 0 : rel.split('/').length)
const under = (rel: string, dir: string): boolean => rel === dir || rel.startsWith(`${dir}/`)

/**
 * One writer per node for `durationMs`, plus the forced conflicts. Each
 * writer picks its targets among what is on its own node's disk (refreshed
 * every 2 s and after its own ops): other nodes' files, conflict copies,
 * directories made anywhere.
 */
export async function runChurn (writers: readonly NodeWriter[], log: OpLog, opts: ChurnOptions): Promise<ChurnStats> {
  const stats: ChurnStats = { ops: 0, byKind: {}, misses: 0, errors: [] }
  const reserved = new Set([MESH_DIR, ...(opts.reserved ?? []), ...(opts.conflictDir === undefined ? [] : [opts.conflictDir])])
  const skip = (rel: string): boolean => reserved.has(rel.split('/')[0]!)
  const [gapMin, gapMax] = opts.gapMs ?? [20, 35]
  const ends = clock() + opts.durationMs
  const count = (kind: string, op: Op | null): void => {
    stats.ops++
    stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1
    if (op === null) stats.misses++
  }
  const failed = (what: string, err: unknown): void => {
    if (stats.errors.length < 50) stats.errors.push(`${what}: ${(err as Error).stack ?? String(err)}`)
  }

  async function writer (w: NodeWriter): Promise<void> {
    const { random } = w
    const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)]
    const name = (): string => NAME_FORMS[Math.floor(random() * NAME_FORMS.length)]!(w.freshId())
    let files: string[] = []
    let dirs: string[] = ['']
    let refreshed = 0
    const refresh = async (): Promise<void> => {
      const listing = await listTree(w.node.root, skip)
      files = listing.files
      dirs = ['', ...listing.dirs]
      refreshed = clock()
    }
    const parentDir = (): string => pick(dirs.filter((d) => depth(d) < MAX_DEPTH)) ?? ''
    const join = (dir: string, base: string): string => (dir === '' ? base : `${dir}/${base}`)
    const forget = (rel: string): void => {
      files = files.filter((f) => !under(f, rel))
      dirs = dirs.filter((d) => d === '' || !under(d, rel))
    }

    const ops: Array<[number, string, () => Promise<Op | null>]> = [
      [28, 'create', async () => {
        const rel = join(parentDir(), name())
        const op = await w.create(rel)
        if (op !== null) files.push(rel)
        return op
      }],
      [12, 'append', async () => {
        const rel = pick(files)
        return rel === undefined ? null : await w.append(rel)
      }],
      [12, 'overwrite', async () => {
        const rel = pick(files)
        return rel === undefined ? null : await w.overwrite(rel)
      }],
      [12, 'delete', async () => {
        const rel = pick(files)
        if (rel === undefined) return null
        forget(rel)
        return await w.remove(rel)
      }],
      [8, 'rename-file', async () => {
        const rel = pick(files)
        if (rel === undefined) return null
        const to = join(parentDir(), name())
        forget(rel)
        const op = await w.move(rel, to)
        if (op !== null) files.push(to)
        return op
      }],
      [3, 'rename-dir', async () => {
        const from = pick(dirs.filter((d) => d !== ''))
        if (from === undefined) return null
        const into = pick(dirs.filter((d) => !under(d, from) && depth(d) < MAX_DEPTH - 1)) ?? ''
        const to = join(into, name())
        forget(from)
        const op = await w.move(from, to)
        if (op !== null) await refresh()
        return op
      }],
      [6, 'mkdir-tree', async () => {
        // A directory and files in it at once (the new-directory race), sometimes a subdirectory, sometimes left empty.
        const top = join(parentDir(), name())
        const made = await w.mkdir(top)
        if (made === null) return null
        dirs.push(top)
        const inner = [top]
        if (random() < 0.5 && depth(top) < MAX_DEPTH) {
          const sub = join(top, name())
          if (await w.mkdir(sub) !== null) {
            dirs.push(sub)
            inner.push(sub)
          }
        }
        const n = random() < 0.15 ? 0 : 1 + Math.floor(random() * 5)
        for (let i = 0; i < n; i++) {
          const rel = join(pick(inner)!, name())
          if (await w.create(rel) !== null) files.push(rel)
        }
        return made
      }],
      [2, 'rmtree', async () => {
        const rel = pick(dirs.filter((d) => d !== ''))
        if (rel === undefined) return null
        forget(rel)
        return await w.remove(rel, 'rmtree')
      }],
      [3, 'rmdir', async () => {
        const rel = pick(dirs.filter((d) => d !== ''))
        if (rel === undefined) return null
        const op = await w.rmdir(rel)
        if (op !== null) forget(rel)
        return op
      }],
    ]
    const total = ops.reduce((s, [weight]) => s + weight, 0)
    while (clock() < ends) {
      if (clock() - refreshed > 2_000) await refresh()
      let roll = random() * total
      const [, kind, run] = ops.find(([weight]) => (roll -= weight) < 0) ?? ops[0]!
      try {
        count(kind, await run())
      } catch (err) {
        count(kind, null)
        failed(`${w.node.name} ${kind}`, err)
      }
      await sleep(gapMin + random() * (gapMax - gapMin))
    }
  }

  async function forcedConflicts (): Promise<void> {
    if (opts.conflicts === 0 || opts.conflictDir === undefined) return
    const random = seededRandom(opts.seed ^ 0x5eed)
    const start = clock()
    const every = opts.durationMs / opts.conflicts
    const pending: Array<Promise<unknown>> = []
    for (let k = 0; k < opts.conflicts; k++) {
      const at = start + every * (k + random() * 0.5)
      await sleep(Math.max(0, at - clock()))
      const a = Math.floor(random() * writers.length)
      const b = (a + 1 + Math.floor(random() * (writers.length - 1))) % writers.length
      const delayMs = random() * 50
      const rel = `${opts.conflictDir}/${conflictName(k)}`
      log.forced.push({ index: k, path: rel, nodes: [writers[a]!.node.name, writers[b]!.node.name], delayMs })
      const write = (w: NodeWriter): Promise<unknown> => w.forcedWrite(rel, k).then((op) => count('forced', op), (err) => {
        count('forced', null)
        failed(`${w.node.name} forced ${k}`, err)
      })
      pending.push(write(writers[a]!), sleep(delayMs).then(() => write(writers[b]!)))
    }
    await Promise.all(pending)
  }

  await Promise.all([...writers.map(writer), forcedConflicts()])
  return stats
}

/** Names of the forced conflicts: with and without an extension, hostile too. */
export function conflictName (k: number): string {
  const forms = [`report ${k}.pdf`, `-c${k}.dat`, `ünï c${k}.txt`.normalize('NFC'), `c${k}`, `quo"te ${k}.tar.gz`, `.hidden-${k}.txt`]
  return forms[k % forms.length]!
}

/** The start state: directories and files written on one node (to be awaited on all). */
export async function seedTree (w: NodeWriter, dirs: readonly string[], files: number): Promise<void> {
  for (const d of dirs) await w.mkdir(d)
  const pick = (): string => dirs[Math.floor(w.random() * dirs.length)]!
  for (let i = 0; i < files; i++) await w.create(`${i % 4 === 0 ? '' : `${pick()}/`}start ${w.freshId()}.txt`.replace(/^\//, ''))
}

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

/** The service process of `node` and everything it runs (its rsyncs), found among this process's children by its config file. */
export function serviceTree (node: MeshNode): number[] {
  const config = path.join(path.dirname(node.root), 'config.yaml')
  const ours = descendantPids(process.pid)
  const main = ours.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(config)
    } catch {
      return false
    }
  })
  return main === undefined ? [] : [main, ...descendantPids(main)]
}

/** kill -9 of the node's rsync daemon and its connection children (the mesh helper's kill stops it politely). */
export function killDaemon9 (node: MeshNode): void {
  // Stopped first, so it forks no connection child between the listing of its children and its death (one would
  // outlive it, serving its connection).
  try {
    process.kill(node.daemon.pid, 'SIGSTOP')
  } catch {}
  for (const pid of [node.daemon.pid, ...descendantPids(node.daemon.pid)]) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

/** SIGSTOP (or SIGCONT) of the node's service and daemon, each with its children: the node is unreachable but keeps its connections. */
export function freezeNode (node: MeshNode, frozen: boolean): void {
  if (frozen) node.daemon.pause()
  for (const pid of serviceTree(node)) {
    try {
      process.kill(pid, frozen ? 'SIGSTOP' : 'SIGCONT')
    } catch {}
  }
  if (!frozen) node.daemon.resume()
}

/** What each node's database says of `paths` (its row and what it still owes), read beside the running service. */
export function meshRows (nodes: readonly MeshNode[], paths: readonly string[]): string {
  const lines: string[] = []
  for (const node of nodes) {
    let db
    try {
      db = new Database(path.join(path.dirname(node.root), 'db.sqlite'), { readonly: true, fileMustExist: true })
      for (const p of paths) {
        const base = path.posix.basename(p)
        const stem = p.slice(0, p.length - base.length) + (base.lastIndexOf('.') > 0 ? base.slice(0, base.lastIndexOf('.')) : base)
        const rows = db.prepare('SELECT * FROM mesh_files WHERE path = ? OR (path > ? AND path < ?)').all(p, `${stem}.sync-conflict-`, `${stem}.sync-conflict.`)
        const owed = db.prepare('SELECT peer, seq FROM mesh_outbox WHERE path = ?').all(p)
        lines.push(`${node.name} ${JSON.stringify(p)}: ${JSON.stringify(rows)} owed ${JSON.stringify(owed)}`)
      }
    } catch (err) {
      lines.push(`${node.name}: ${(err as Error).message}`)
    } finally {
      db?.close()
    }
  }
  return lines.join('\n')
}
