import { watch } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { mkdtempSync } from 'node:fs'
import { tmpdir, cpus, totalmem } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { startRsyncDaemon } from '../test/helpers/rsync-daemon.js'
import { lsyncdSystem, makeCountingRsync, seedSystem, syncplaneSystem, type System, type SystemContext } from './systems.js'

// `npm run bench` runs the full sizes; BENCH_SMOKE=1 (CI) the same code on small ones.
const SMOKE = process.env.BENCH_SMOKE === '1'
const RUNS = Number(process.env.BENCH_RUNS ?? (SMOKE ? 1 : 3))
const BURST_FILES = SMOKE ? 300 : 10_000
const BURST_DIRS = SMOKE ? 10 : 100
const LATENCY_FILES = SMOKE ? 10 : 100
const LATENCY_GAP_MS = 200
const TIMEOUT_MS = SMOKE ? 60_000 : 300_000
const SEED_TIMEOUT_MS = SMOKE ? 30_000 : 60_000

const root = mkdtempSync(path.join(tmpdir(), 'syncplane-bench-'))
const moduleDir = path.join(root, 'module')
const daemon = await startRsyncDaemon({ root: path.join(root, 'daemon'), modulePath: moduleDir })
const passwordFile = path.join(root, 'rsync.pass')
await writeFile(passwordFile, `${daemon.password}\n`, { mode: 0o600 })
const counting = await makeCountingRsync(root)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: number[]) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]! }
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! }
const rsyncRuns = async () => (await readFile(counting.logFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length

/** Counts the burst's files on the replica: a name without a leading dot is a complete file (rsync renames into place). */
async function countReplica (replica: string): Promise<number> {
  let n = 0
  for (let d = 0; d < BURST_DIRS; d++) {
    const names = await readdir(path.join(replica, `d${d}`)).catch(() => [] as string[])
    n += names.filter((x) => !x.startsWith('.')).length
  }
  return n
}

async function freshContext (name: string): Promise<{ ctx: SystemContext; source: string }> {
  const dir = path.join(root, `${name.replace(/\W+/g, '-')}-${Date.now()}`)
  const source = path.join(dir, 'source')
  await mkdir(path.join(source, 'lat'), { recursive: true })
  for (let d = 0; d < BURST_DIRS; d++) await mkdir(path.join(source, `d${d}`))
  return { ctx: { root: dir, source, daemon, passwordFile, rsync: counting.binary }, source }
}

async function waitUntil (probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const ends = Date.now() + timeoutMs
  while (Date.now() < ends) {
    if (await probe()) return true
    await sleep(intervalMs)
  }
  return false
}

/** Starts a system and waits until a probe file written to the source reaches the target. */
async function startReady (system: System, source: string): Promise<string> {
  const replica = system.replicaOf(moduleDir)
  await rm(replica, { recursive: true, force: true })
  await system.start()
  // A watcher may still be setting up its watches: write a new probe each second until one arrives.
  let lastProbe = 0
  const ok = await waitUntil(async () => {
    if (Date.now() - lastProbe > 1_000) {
      lastProbe = Date.now()
      await writeFile(path.join(source, `ready-${lastProbe}`), 'x')
    }
    return (await readdir(replica).catch(() => [] as string[])).some((n) => n.startsWith('ready-'))
  }, TIMEOUT_MS, 50)
  if (!ok) throw new Error(`${system.name} never replicated the probe file`)
  return replica
}

interface Sample { burstS: number; burstCpuS: number; burstRuns: number; converged: boolean; latencies: number[]; rssMb: number }

async function measure (make: (ctx: SystemContext) => System, isSeed: boolean): Promise<Sample> {
  // Latency: an idle system, one file every 200 ms.
  let { ctx, source } = await freshContext('lat')
  let system = make(ctx)
  let replica = await startReady(system, source)
  const appeared = new Map<string, number>()
  // The seed loop has no initial sync: its replica lacks the (empty) directory until a file arrives.
  await mkdir(path.join(replica, 'lat'), { recursive: true })
  const watcher = watch(path.join(replica, 'lat'), (_event, name) => {
    if (name && !name.startsWith('.') && !appeared.has(name)) appeared.set(name, performance.now())
  })
  const written = new Map<string, number>()
  for (let i = 0; i < LATENCY_FILES; i++) {
    const name = `lat-${i}`
    await writeFile(path.join(source, 'lat', name), Buffer.alloc(4096, i))
    written.set(name, performance.now())
    await sleep(LATENCY_GAP_MS)
  }
  await waitUntil(async () => appeared.size >= LATENCY_FILES, isSeed ? SEED_TIMEOUT_MS : TIMEOUT_MS)
  watcher.close()
  const latencies = [...written].map(([name, at]) => (appeared.get(name) ?? Infinity) - at)
  await system.stop()

  // Burst: 4 KiB files into existing directories, as fast as possible.
  ;({ ctx, source } = await freshContext('burst'))
  system = make(ctx)
  replica = await startReady(system, source)
  const runsBefore = await rsyncRuns()
  for (let i = 0; i < BURST_FILES; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, BURST_FILES - i) }, (_, k) =>
      writeFile(path.join(source, `d${(i + k) % BURST_DIRS}`, `f${i + k}`), Buffer.alloc(4096, (i + k) % 251))))
  }
  const lastWrite = performance.now()
  let peakRss = system.rss()
  const converged = await waitUntil(async () => {
    peakRss = Math.max(peakRss, system.rss())
    return (await countReplica(replica)) >= BURST_FILES
  }, isSeed ? SEED_TIMEOUT_MS : TIMEOUT_MS, 50)
  const burstS = converged ? (performance.now() - lastWrite) / 1000 : Infinity
  const burstRuns = (await rsyncRuns()) - runsBefore
  const burstCpuS = (await system.stop()) - (await idleCpu(make))
  return { burstS, burstCpuS, burstRuns, converged, latencies, rssMb: peakRss / 1e6 }
}

/** CPU a system spends starting and idling until ready: subtracted so the burst's CPU is the burst's. */
const idleCpuCache = new Map<(ctx: SystemContext) => System, number>()
async function idleCpu (make: (ctx: SystemContext) => System): Promise<number> {
  const cached = idleCpuCache.get(make)
  if (cached !== undefined) return cached
  const { ctx, source } = await freshContext('idle')
  const system = make(ctx)
  await startReady(system, source)
  const cpu = await system.stop()
  idleCpuCache.set(make, cpu)
  return cpu
}

async function floor (): Promise<{ burstS: number }> {
  const { source } = await freshContext('floor')
  for (let i = 0; i < BURST_FILES; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, BURST_FILES - i) }, (_, k) =>
      writeFile(path.join(source, `d${(i + k) % BURST_DIRS}`, `f${i + k}`), Buffer.alloc(4096, (i + k) % 251))))
  }
  await rm(path.join(moduleDir, 'floor'), { recursive: true, force: true })
  const started = performance.now()
  execFileSync('rsync', ['-a', `--password-file=${passwordFile}`, `${source}/`, `${daemon.url}floor/`])
  return { burstS: (performance.now() - started) / 1000 }
}

const systems: Array<[string, (ctx: SystemContext) => System, boolean]> = [
  ['syncplane', syncplaneSystem, false],
  ['lsyncd delay=1', (ctx) => lsyncdSystem(ctx, 1), false],
  ['lsyncd delay=0', (ctx) => lsyncdSystem(ctx, 0), false],
  ['seed loop', seedSystem, true],
]

const results: Record<string, Sample[]> = {}
const floors: number[] = []
try {
  for (let run = 1; run <= RUNS; run++) {
    floors.push((await floor()).burstS)
    for (const [name, make, isSeed] of systems) {
      process.stderr.write(`run ${run}/${RUNS}: ${name}\n`)
      ;(results[name] ??= []).push(await measure(make, isSeed))
    }
  }
} finally {
  await daemon.stop()
}

const floorS = median(floors)
const row = (name: string) => {
  const samples = results[name]!
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
    peakRssMb: median(samples.map((s) => s.rssMb)),
  }
}
const rows = systems.map(([name]) => row(name))
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '∞')
const lines = [
  `syncplane bench — ${SMOKE ? 'SMOKE sizes' : 'full sizes'}; ${RUNS} run(s), medians; ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; rsync daemon on loopback`,
  `burst: ${BURST_FILES} files of 4 KiB into ${BURST_DIRS} directories; latency: ${LATENCY_FILES} files of 4 KiB, one every ${LATENCY_GAP_MS} ms`,
  '',
  '| system | burst: converge after last write | vs rsync floor | burst CPU-s (start-up subtracted) | rsync runs | latency p50 | p99 | max | peak RSS in burst |',
  '|---|---|---|---|---|---|---|---|---|',
  `| rsync floor (one rsync -a) | ${fmt(floorS)} s | 1.00× | – | 1 | – | – | – | – |`,
  ...rows.map((r) => `| ${r.name} | ${r.converged ? `${fmt(r.burstS)} s` : `> ${(r.name === 'seed loop' ? SEED_TIMEOUT_MS : TIMEOUT_MS) / 1000} s (gave up)`} | ${r.converged ? `${fmt(r.burstS / floorS)}×` : '–'} | ${r.converged ? fmt(r.burstCpuS) : '–'} | ${r.burstRuns} | ${fmt(r.latencyP50Ms, 0)} ms | ${fmt(r.latencyP99Ms, 0)} ms | ${fmt(r.latencyMaxMs, 0)} ms | ${fmt(r.peakRssMb, 0)} MB |`),
]
const sp = rows.find((r) => r.name === 'syncplane')!
const l0 = rows.find((r) => r.name === 'lsyncd delay=0')!
const l1 = rows.find((r) => r.name === 'lsyncd delay=1')!
lines.push('', `syncplane vs lsyncd delay=0: burst ${fmt(l0.burstS / sp.burstS)}× faster, CPU ${fmt(sp.burstCpuS / l0.burstCpuS)}× of lsyncd's, latency p50 ${fmt(sp.latencyP50Ms / l0.latencyP50Ms)}× of lsyncd's`)
lines.push(`syncplane vs lsyncd delay=1: burst ${fmt(l1.burstS / sp.burstS)}× faster, CPU ${fmt(sp.burstCpuS / l1.burstCpuS)}× of lsyncd's`)
lines.push(`syncplane vs the rsync floor: ${fmt(sp.burstS / floorS)}×`)
process.stdout.write(`${lines.join('\n')}\n`)
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results')
await mkdir(out, { recursive: true })
await writeFile(path.join(out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ smoke: SMOKE, runs: RUNS, floorS, rows, raw: results }, null, 2))
await rm(root, { recursive: true, force: true })
