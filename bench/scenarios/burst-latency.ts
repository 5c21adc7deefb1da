import { existsSync, watch } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { median, pct, sleep, waitUntil } from '../common.js'
import type { Harness } from '../harness.js'
import type { Contender } from '../systems.js'

/**
 * Workloads 1 and 2. Burst: 4 KiB files written as fast as possible into
 * existing directories, timed from the last write until the target holds
 * every file. Latency: 4 KiB files one at a time, timed from close on the
 * source to the file in place on the target. The floor: one `rsync -a` of
 * the burst's tree, started when the writer finishes.
 */

export interface LatencySample { latencies: number[]; latencyUnobserved: number }
export interface BurstSample { burstS: number; burstCpuS: number; burstRuns: number; converged: boolean; rssMb: number }
export type Sample = BurstSample & LatencySample

export interface BurstRow {
  name: string
  burstS: number
  converged: boolean
  burstCpuS: number
  burstRuns: number
  latencyP50Ms: number
  latencyP99Ms: number
  latencyMaxMs: number
  latencyUnobserved: number
  peakRssMb: number
}

export interface BurstLatencyResult {
  /** The floor of each run, in seconds. */
  floors: number[]
  floorS: number
  /** Every run's sample, by system. */
  raw: Record<string, Sample[]>
  /** Medians over the runs, one row per system in the tables' order. */
  rows: BurstRow[]
}

export async function runBurstLatency (h: Harness, systems: readonly Contender[]): Promise<BurstLatencyResult> {
  const idleCpuS = idleCpuOf(h)
  const floors: number[] = []
  const raw: Record<string, Sample[]> = {}
  for (let run = 1; run <= h.settings.runs; run++) {
    floors.push(await floor(h))
    for (const system of systems) {
      process.stderr.write(`burst+latency run ${run}/${h.settings.runs}: ${system.name}\n`)
      const latency = await measureLatency(h, system)
      const burst = await measureBurst(h, system, idleCpuS)
      const samples = raw[system.name] ?? (raw[system.name] = [])
      samples.push({ ...burst, ...latency })
    }
  }
  // BENCH_RUNS=0 measures nothing: no rows.
  const rows = floors.length === 0 ? [] : systems.map((s) => summarize(s.name, raw[s.name]!))
  return { floors, floorS: median(floors), raw, rows }
}

/** Latency: an idle system, one file every `gapMs`. */
async function measureLatency (h: Harness, contender: Contender): Promise<LatencySample> {
  const { files, gapMs } = h.settings.latency
  const { ctx, source } = await h.freshContext('lat')
  const system = contender.make(ctx)
  const replica = await h.startReady(system, source)
  const appeared = new Map<string, number>()
  // The seed loop has no initial sync: its replica lacks the (empty) directory until a file arrives.
  await mkdir(path.join(replica, 'lat'), { recursive: true })
  // Only the workload's own names: a change to the watched directory itself (rsync setting its mtime) is reported under its own name, "lat".
  const watcher = watch(path.join(replica, 'lat'), (_event, name) => {
    if (name && name.startsWith('lat-') && !appeared.has(name)) appeared.set(name, performance.now())
  })
  const written = new Map<string, number>()
  for (let i = 0; i < files; i++) {
    const name = `lat-${i}`
    await writeFile(path.join(source, 'lat', name), Buffer.alloc(4096, i))
    written.set(name, performance.now())
    await sleep(gapMs)
  }
  await waitUntil(async () => appeared.size >= files, timeoutOf(h, contender))
  watcher.close()
  // A file on the replica whose arrival the watch missed has no latency; one that never arrived has an infinite one.
  const onReplica = (name: string): boolean => existsSync(path.join(replica, 'lat', name))
  const unseen = [...written.keys()].filter((name) => !appeared.has(name))
  const latencyUnobserved = unseen.filter(onReplica).length
  const latencies = [...written]
    .filter(([name]) => appeared.has(name) || !onReplica(name))
    .map(([name, at]) => (appeared.get(name) ?? Infinity) - at)
  await system.stop()
  return { latencies, latencyUnobserved }
}

/** Burst: the burst's files into a fresh, ready system; `idleCpuS` is what it costs to start and idle. */
async function measureBurst (h: Harness, contender: Contender, idleCpuS: (c: Contender) => Promise<number>): Promise<BurstSample> {
  const { ctx, source } = await h.freshContext('burst')
  const system = contender.make(ctx)
  const replica = await h.startReady(system, source)
  const runsBefore = await h.rsyncRuns()
  await h.writeBurst(source)
  const lastWrite = performance.now()
  let peakRss = system.rss()
  const converged = await waitUntil(async () => {
    peakRss = Math.max(peakRss, system.rss())
    return (await h.countReplica(replica)) >= h.settings.burst.files
  }, timeoutOf(h, contender), 50)
  const burstS = converged ? (performance.now() - lastWrite) / 1000 : Infinity
  const burstRuns = (await h.rsyncRuns()) - runsBefore
  const burstCpuS = (await system.stop()) - (await idleCpuS(contender))
  return { burstS, burstCpuS, burstRuns, converged, rssMb: peakRss / 1e6 }
}

/** CPU a system spends starting and idling until ready, measured once per system: subtracted so the burst's CPU is the burst's. */
function idleCpuOf (h: Harness): (c: Contender) => Promise<number> {
  const cache = new Map<string, number>()
  return async (contender) => {
    const cached = cache.get(contender.name)
    if (cached !== undefined) return cached
    const { ctx, source } = await h.freshContext('idle')
    const system = contender.make(ctx)
    await h.startReady(system, source)
    const cpu = await system.stop()
    cache.set(contender.name, cpu)
    return cpu
  }
}

/** One `rsync -a` of the whole burst, started once it is written; in seconds. */
async function floor (h: Harness): Promise<number> {
  const { source } = await h.freshContext('floor')
  await h.writeBurst(source)
  await rm(path.join(h.moduleDir, 'floor'), { recursive: true, force: true })
  const started = performance.now()
  execFileSync('rsync', ['-a', `--password-file=${h.passwordFile}`, `${source}/`, `${h.daemon.url}floor/`])
  return (performance.now() - started) / 1000
}

/** How long a system may take; the seed loop gets less. */
export const timeoutOf = (h: Harness, contender: { seed: boolean }): number =>
  contender.seed ? h.settings.seedTimeoutMs : h.settings.timeoutMs

function summarize (name: string, samples: Sample[]): BurstRow {
  const lat = samples.flatMap((s) => s.latencies)
  return {
    name,
    burstS: median(samples.map((s) => s.burstS)),
    converged: samples.every((s) => s.converged),
    burstCpuS: median(samples.map((s) => s.burstCpuS)),
    burstRuns: median(samples.map((s) => s.burstRuns)),
    latencyP50Ms: pct(lat, 50),
    latencyP99Ms: pct(lat, 99),
    latencyMaxMs: Math.max(...lat),
    latencyUnobserved: samples.reduce((n, s) => n + s.latencyUnobserved, 0),
    peakRssMb: median(samples.map((s) => s.rssMb)),
  }
}
