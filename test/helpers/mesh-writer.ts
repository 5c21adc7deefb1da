import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rmdir, unlink, writeFile, lstat } from 'node:fs/promises'
import path from 'node:path'
import { seededRandom } from './churn.js'
import type { MeshNode } from './mesh.js'
import { clock, sha256, uidOf, type Op, type OpLog, type PathVersion } from './mesh-op-log.js'

/**
 * A concurrent writer per mesh node, logging each op (mesh-op-log.ts).
 *
 * Every op that removes or changes a file first learns exactly which version
 * it removes: deletes rename the file out of the tree (into the node's
 * graveyard, on the same file system) and read it there, appends and
 * overwrites read the file through the descriptor they then write with. So
 * "what the node had seen" is what was on its disk, never what the writer
 * believed.
 */

/** The node's own directory: no writer touches it, no verdict reads it. */
export const MESH_DIR = '.syncplane'

const errCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err)
/** Errors a writer meets because the tree changed under it (a peer's delete or rename): the op simply missed. */
const MISSES = new Set(['ENOENT', 'ENOTDIR', 'EEXIST', 'ENOTEMPTY', 'EISDIR', 'EINVAL'])

/** Hostile names, one of them per new file or directory. */
export const NAME_FORMS: ReadonlyArray<(id: string) => string> = [
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

  /** A directory made or removed alone; null when the tree changed under it first. */
  async function dirOp (kind: 'mkdir' | 'rmdir', rel: string, run: () => Promise<unknown>, dirs: Op['dirs']): Promise<Op | null> {
    const t0 = clock()
    try {
      await run()
    } catch (err) {
      if (MISSES.has(errCode(err))) return null
      throw err
    }
    return log.add({ node: node.name, kind, t0, t1: clock(), path: rel, writes: [], removes: [], consumed: [], dirs })
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
    mkdir: (rel) => dirOp('mkdir', rel, () => mkdir(abs(rel)), { made: [rel] }),
    rmdir: (rel) => dirOp('rmdir', rel, () => rmdir(abs(rel)), { removed: [rel] }),
    forcedWrite: (rel, index) => create(rel, 200 + Math.floor(random() * 4_000), index),
  }
}

/** Files and directories below `dir` (absolute), relative to it; directories parents first. */
export async function listTree (dir: string, skip: (rel: string) => boolean = () => false): Promise<{ files: string[], dirs: string[] }> {
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
