import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { seededRandom } from '../test/helpers/churn.js'
import { sleep } from './common.js'
import { parseContent, snapshotTree, type Op } from './mesh-oracle.js'

/**
 * The mesh churn (the simple version of the anchors'): one seeded writer
 * per node, all at once, on the node's own tree; every file it writes starts with a `uid=` line, so any file found at the end traces
 * back to the upload it came from, under any name on any node. Destructive
 * ops take the file first (a rename out of the tree, or an open descriptor)
 * and read its uid from what they took, so the log says exactly which
 * upload each of them removed. All writers share one clock (this process).
 *
 * Each append adds a line with an id of its own, so what an op took away
 * also says which appends it had seen. The oracle that judges the trees at the end is mesh-oracle.ts.
 */

/** Names with spaces, a leading dash, quotes, shell and glob characters, unicode and a leading dot. */
const NAMES = ['plain', 'with space', '-dash', 'ünï', 'q"uo\'te', '$(x)', 'star*', '.dot']

const WEIGHTS: Array<[Op['op'] | 'mkdir', number]> = [
  ['create', 30], ['append', 15], ['overwrite', 10], ['delete', 12], ['rename', 10], ['mkdir', 5], ['rmtree', 2],
]

const content = (uid: string, random: () => number): Buffer => {
  const body = Buffer.alloc(64 + Math.floor(random() * 2000))
  for (let i = 0; i < body.length; i++) body[i] = 97 + Math.floor(random() * 26)
  return Buffer.concat([Buffer.from(`uid=${uid}\n`), body])
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
