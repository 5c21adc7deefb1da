import { watch } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { sleep, writeTree } from '../common.js'
import type { Harness } from '../harness.js'
import { syncplaneSystem, type Contender, type System, type SystemContext } from '../systems.js'

/**
 * Workload 4: a tree already replicated; from launch until a file written
 * then reaches the target within 1 s, and the peak RSS of the system and its
 * children. Every system on the smaller tree, syncplane alone on the larger.
 */

export interface ScaleRow extends ScaleResult { name: string; files: number; dirs: number }

export interface ScaleResult {
  /** From launch until a file written then reached the target within 1 s; Infinity if never. */
  liveS: number
  peakRssMb: number
}

/** A tree of `files` files in `dirs` directories, plus the `live/` directory the probes go to. */
async function prepareScaleSource (source: string, files: number, dirs: number): Promise<void> {
  await writeTree(source, { files, dirs, size: 256 })
  await mkdir(path.join(source, 'live'))
}

/**
 * Starts `system` over an already replicated tree (the replica is a
 * hard-linked copy: same names, sizes and times, made in seconds) and
 * writes a probe file every 100 ms until one reaches the target within a
 * second of its write.
 */
async function scale (system: System, source: string, replica: string, opts: { timeoutMs: number }): Promise<ScaleResult> {
  await rm(replica, { recursive: true, force: true })
  await mkdir(path.dirname(replica), { recursive: true })
  execFileSync('cp', ['-al', source, replica])
  const arrived = new Map<string, number>()
  const w = watch(path.join(replica, 'live'), (_e, name) => {
    if (name && !name.startsWith('.') && !arrived.has(name)) arrived.set(name, performance.now())
  })
  const written = new Map<string, number>()
  let peakRss = 0
  const launched = performance.now()
  await system.start({ waitReady: false })
  let liveAt = Infinity
  for (let i = 0; performance.now() - launched < opts.timeoutMs; i++) {
    peakRss = Math.max(peakRss, system.rss())
    const name = `p-${i}`
    await writeFile(path.join(source, 'live', name), 'probe')
    written.set(name, performance.now())
    await sleep(100)
    const hit = [...written].find(([n, at]) => (arrived.get(n) ?? Infinity) - at <= 1_000)
    if (hit) {
      liveAt = hit[1]
      break
    }
  }
  // Keep sampling a little: the start-up mirror may still be running.
  const until = performance.now() + 2_000
  while (performance.now() < until) {
    peakRss = Math.max(peakRss, system.rss())
    await sleep(100)
  }
  w.close()
  await system.stop()
  await rm(path.join(source, 'live'), { recursive: true })
  await mkdir(path.join(source, 'live'))
  return { liveS: (liveAt - launched) / 1000, peakRssMb: peakRss / 1e6 }
}

export async function runScale (h: Harness, systems: readonly Contender[]): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = []
  const { files, dirs } = h.settings.scale
  const ctx = await scaleContext(h, 'scale', files, dirs)
  for (const contender of systems.filter((c) => c.scale)) {
    process.stderr.write(`scale ${files}: ${contender.name}\n`)
    const system = contender.make(ctx)
    rows.push({ name: contender.name, files, dirs, ...(await scale(system, ctx.source, system.replicaOf(h.moduleDir), { timeoutMs: h.settings.timeoutMs })) })
  }
  await rm(ctx.root, { recursive: true, force: true })
  await h.emptyModule()

  const big = h.settings.bigScale
  const bigCtx = await scaleContext(h, 'scale-big', big.files, big.dirs)
  process.stderr.write(`scale ${big.files}: syncplane\n`)
  const system = syncplaneSystem(bigCtx)
  rows.push({ name: 'syncplane', files: big.files, dirs: big.dirs, ...(await scale(system, bigCtx.source, system.replicaOf(h.moduleDir), { timeoutMs: h.settings.timeoutMs })) })
  await rm(bigCtx.root, { recursive: true, force: true })
  await h.emptyModule()
  return rows
}

async function scaleContext (h: Harness, label: string, files: number, dirs: number): Promise<SystemContext> {
  const dir = path.join(h.root, label)
  const source = path.join(dir, 'source')
  process.stderr.write(`scale: writing ${files} files in ${dirs} directories\n`)
  await prepareScaleSource(source, files, dirs)
  return h.contextAt(dir, source)
}
