import { appendFile, mkdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NAMES = ['plain', 'with space', 'new\nline', '-dash', '--double', 'ünï', 'star*', 'back\\slash', 'q"uo\'te', 'tilde~', '.dot']

export interface ChurnStats { operations: Record<string, number> }

/**
 * A random workload on a live tree, replayable from its seed: creates,
 * appends, same-size rewrites, renames of files and directories, deletes of
 * files and whole trees, symlinks; hostile names throughout.
 */
export async function churn (root: string, opts: { seed: number; durationMs: number }): Promise<ChurnStats> {
  const random = seededRandom(opts.seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const dirs: string[] = ['']
  const files: string[] = []
  const links: string[] = []
  const operations: Record<string, number> = {}
  let counter = 0
  const abs = (rel: string): string => path.join(root, rel)
  const freshName = (): string => `${pick(NAMES)}-${counter++}`
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => 97 + Math.floor(random() * 26)))
  const under = (rel: string, dir: string): boolean => rel === dir || rel.startsWith(`${dir}/`)

  const ops: Array<[number, string, () => Promise<void>]> = [
    [25, 'create', async () => {
      const rel = path.posix.join(pick(dirs), freshName())
      await writeFile(abs(rel), bytes(Math.floor(random() * 2048)))
      files.push(rel)
    }],
    [12, 'append', async () => {
      if (files.length === 0) return
      await appendFile(abs(pick(files)), bytes(1 + Math.floor(random() * 512)))
    }],
    [5, 'rewrite same size', async () => {
      if (files.length === 0) return
      const rel = pick(files)
      const { size } = await stat(abs(rel))
      await writeFile(abs(rel), bytes(size))
    }],
    [10, 'rename file', async () => {
      if (files.length === 0) return
      const i = Math.floor(random() * files.length)
      const to = path.posix.join(pick(dirs), freshName())
      await rename(abs(files[i]!), abs(to))
      files[i] = to
    }],
    [10, 'mkdir', async () => {
      const rel = path.posix.join(pick(dirs), freshName())
      await mkdir(abs(rel))
      dirs.push(rel)
    }],
    [6, 'rename dir', async () => {
      const movable = dirs.filter((d) => d !== '')
      if (movable.length === 0) return
      const from = pick(movable)
      const into = pick(dirs.filter((d) => !under(d, from)))
      const to = path.posix.join(into, freshName())
      await rename(abs(from), abs(to))
      const move = (p: string): string => (under(p, from) ? to + p.slice(from.length) : p)
      for (const list of [dirs, files, links]) list.splice(0, list.length, ...list.map(move))
    }],
    [12, 'delete file', async () => {
      if (files.length === 0) return
      const i = Math.floor(random() * files.length)
      await rm(abs(files[i]!))
      files.splice(i, 1)
    }],
    [4, 'delete tree', async () => {
      const removable = dirs.filter((d) => d !== '')
      if (removable.length === 0) return
      const gone = pick(removable)
      await rm(abs(gone), { recursive: true })
      for (const list of [dirs, files, links]) list.splice(0, list.length, ...list.filter((p) => !under(p, gone)))
    }],
    [3, 'symlink', async () => {
      const rel = path.posix.join(pick(dirs), freshName())
      await symlink(files.length > 0 && random() < 0.5 ? path.posix.basename(pick(files)) : 'dangling', abs(rel))
      links.push(rel)
    }],
    [2, 'delete link', async () => {
      if (links.length === 0) return
      const i = Math.floor(random() * links.length)
      await rm(abs(links[i]!))
      links.splice(i, 1)
    }],
    [8, 'pause', async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 40)))
    }],
  ]
  const total = ops.reduce((sum, [w]) => sum + w, 0)
  const ends = Date.now() + opts.durationMs
  while (Date.now() < ends) {
    let roll = random() * total
    const op = ops.find(([w]) => (roll -= w) < 0) ?? ops[0]!
    await op[2]()
    operations[op[1]] = (operations[op[1]] ?? 0) + 1
  }
  return { operations }
}
