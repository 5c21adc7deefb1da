import { watch } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { sleep, writeTree } from '../common.js'
import type { System } from '../systems.js'

export interface ScaleResult {
  /** From launch until a file written then reached the target within 1 s; Infinity if never. */
  liveS: number
  peakRssMb: number
}

/** A tree of `files` files in `dirs` directories, plus the `live/` directory the probes go to. */
export async function prepareScaleSource (source: string, files: number, dirs: number): Promise<void> {
  await writeTree(source, { files, dirs, size: 256 })
  await mkdir(path.join(source, 'live'))
}

/**
 * Starts `system` over an already replicated tree (the replica is a
 * hard-linked copy: same names, sizes and times, made in seconds) and
 * writes a probe file every 100 ms until one reaches the target within a
 * second of its write.
 */
export async function scale (system: System, source: string, replica: string, opts: { timeoutMs: number }): Promise<ScaleResult> {
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
