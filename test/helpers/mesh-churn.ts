import { seededRandom } from './churn.js'
import { clock, type Op, type OpLog } from './mesh-op-log.js'
import { listTree, MESH_DIR, NAME_FORMS, type NodeWriter } from './mesh-writer.js'

/** The mesh tests' churn: each node's writer (mesh-writer.ts) at random ops for a while, the forced conflicts, the start state. */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

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
