import { existsSync, watch } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { mkdtempSync } from 'node:fs'
import { tmpdir, cpus, totalmem } from 'node:os'
import path from 'node:path'
import { execFileSync, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startRsyncDaemon } from '../test/helpers/rsync-daemon.js'
import { lsyncdSystem, makeCountingRsync, seedSystem, syncplaneSystem, type System, type SystemContext } from './systems.js'
import { fmt, mainThreadTimes, median, pct, sleep, waitUntil } from './common.js'
import { prepareSustained, sustained, type SustainedResult } from './scenarios/sustained.js'
import { prepareScaleSource, scale, type ScaleResult } from './scenarios/scale.js'
import { seedJobHistory, timeJobQueries, type QueryTiming } from './scenarios/job-history.js'
import { readSchedTrace, schedTable, startSchedTrace, type WaitAttribution } from './sched-trace.js'

// `npm run bench` runs the full sizes; BENCH_SMOKE=1 (CI) the same code on small ones.
const SMOKE = process.env.BENCH_SMOKE === '1'
const RUNS = Number(process.env.BENCH_RUNS ?? (SMOKE ? 1 : 3))
const BURST_FILES = SMOKE ? 300 : 10_000
const BURST_DIRS = SMOKE ? 10 : 100
const LATENCY_FILES = SMOKE ? 10 : 100
const LATENCY_GAP_MS = 200
const TIMEOUT_MS = SMOKE ? 60_000 : 300_000
const SEED_TIMEOUT_MS = SMOKE ? 30_000 : 60_000
const SUSTAINED_RATE = SMOKE ? 100 : 500
const SUSTAINED_SEC = SMOKE ? 5 : 60
const SCALE_FILES = SMOKE ? 2_000 : 200_000
const SCALE_DIRS = SMOKE ? 200 : 20_000
const BIG_FILES = SMOKE ? 5_000 : 1_000_000
const BIG_DIRS = SMOKE ? 500 : 100_000
const JOB_ROWS = SMOKE ? 20_000 : 1_000_000
const PROBE_RATE = 50
/** BENCH_SCHED_TRACE=1 records the scheduler over each control-plane burst (perf, as root) and says who had the CPUs while an HTTP thread waited. */
const SCHED_TRACE = process.env.BENCH_SCHED_TRACE === '1'
/** BENCH_ONLY=burst,sustained,scale,control runs a subset while working on one. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'burst,sustained,scale,control').split(','))

const root = mkdtempSync(path.join(tmpdir(), 'syncplane-bench-'))
const moduleDir = path.join(root, 'module')
const daemon = await startRsyncDaemon({ root: path.join(root, 'daemon'), modulePath: moduleDir })
const passwordFile = path.join(root, 'rsync.pass')
await writeFile(passwordFile, `${daemon.password}\n`, { mode: 0o600 })
const counting = await makeCountingRsync(root)

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

interface Sample { burstS: number; burstCpuS: number; burstRuns: number; converged: boolean; latencies: number[]; latencyUnobserved: number; rssMb: number }

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
  // A file on the replica whose arrival the watch missed has no latency; one that never arrived has an infinite one.
  const unseen = [...written.keys()].filter((name) => !appeared.has(name))
  const latencyUnobserved = unseen.filter((name) => existsSync(path.join(replica, 'lat', name))).length
  const latencies = [...written].filter(([name]) => appeared.has(name) || !existsSync(path.join(replica, 'lat', name))).map(([name, at]) => (appeared.get(name) ?? Infinity) - at)
  await system.stop()

  // Burst: 4 KiB files into existing directories, as fast as possible.
  ;({ ctx, source } = await freshContext('burst'))
  system = make(ctx)
  replica = await startReady(system, source)
  const runsBefore = await rsyncRuns()
  await writeBurst(source)
  const lastWrite = performance.now()
  let peakRss = system.rss()
  const converged = await waitUntil(async () => {
    peakRss = Math.max(peakRss, system.rss())
    return (await countReplica(replica)) >= BURST_FILES
  }, isSeed ? SEED_TIMEOUT_MS : TIMEOUT_MS, 50)
  const burstS = converged ? (performance.now() - lastWrite) / 1000 : Infinity
  const burstRuns = (await rsyncRuns()) - runsBefore
  const burstCpuS = (await system.stop()) - (await idleCpu(make))
  return { burstS, burstCpuS, burstRuns, converged, latencies, latencyUnobserved, rssMb: peakRss / 1e6 }
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

/** The burst: 4 KiB files into the existing directories, as fast as possible. */
async function writeBurst (source: string): Promise<void> {
  for (let i = 0; i < BURST_FILES; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, BURST_FILES - i) }, (_, k) =>
      writeFile(path.join(source, `d${(i + k) % BURST_DIRS}`, `f${i + k}`), Buffer.alloc(4096, (i + k) % 251))))
  }
}

async function floor (): Promise<{ burstS: number }> {
  const { source } = await freshContext('floor')
  await writeBurst(source)
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

/** Frees the disk the scale trees took; the module directory itself must stay for the daemon. */
async function emptyModule (): Promise<void> {
  for (const name of await readdir(moduleDir)) await rm(path.join(moduleDir, name), { recursive: true, force: true })
}

/** Sustained load on a fresh, ready system. */
async function measureSustained (make: (ctx: SystemContext) => System): Promise<SustainedResult & { maxPending: number | null }> {
  const { ctx, source } = await freshContext('sustained')
  await prepareSustained(source)
  const system = make(ctx)
  const replica = await startReady(system, source)
  // syncplane also says how many paths it holds pending: sample it alongside.
  let maxPending: number | null = null
  let sampling = system.apiUrl !== undefined
  const sampler = (async () => {
    while (sampling) {
      const status = await fetch(`${system.apiUrl}/v1/status`).then((r) => r.json() as Promise<{ targets: Array<{ pending: number }> }>).catch(() => undefined)
      if (status) maxPending = Math.max(maxPending ?? 0, ...status.targets.map((t) => t.pending))
      await sleep(250)
    }
  })()
  const result = await sustained(system, source, replica, { rate: SUSTAINED_RATE, seconds: SUSTAINED_SEC, drainMs: SEED_TIMEOUT_MS })
  sampling = false
  await sampler
  await system.stop()
  return { ...result, maxPending }
}

interface ThreadTimes { runMs: number; waitMs: number }
interface ControlSample { healthz: number[]; status: number[]; idle: number[]; errors: number; burstS: number; loop: LoopDelay; service: ThreadTimes; idleServer: ThreadTimes; sched?: WaitAttribution[] }

const timesSince = (pid: number | undefined, before: ThreadTimes): ThreadTimes => {
  const now = mainThreadTimes(pid)
  return { runMs: now.runMs - before.runMs, waitMs: now.waitMs - before.waitMs }
}

/**
 * /healthz and /v1/status, probed from a separate process while syncplane
 * takes the burst. The prober and the idle server get sessions of their own,
 * as a load balancer or any separately started service has: in the bench's
 * session they would share its scheduling group (an autogroup) with the
 * writer, and measure the writer.
 */
async function controlPlaneDuringBurst (): Promise<ControlSample> {
  const { ctx, source } = await freshContext('control')
  const system = syncplaneSystem(ctx)
  const replica = await startReady(system, source)
  const idle = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./idle-server.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  let probe: ReturnType<typeof spawn> | undefined
  const traceFile = path.join(ctx.root, 'sched.data')
  let trace: Awaited<ReturnType<typeof startSchedTrace>> | undefined
  try {
    const idlePort = await new Promise<string>((resolve) => idle.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())))
    const urls = [`${system.apiUrl}/healthz`, `${system.apiUrl}/v1/status`, `http://127.0.0.1:${idlePort}/`]
    const prober = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./http-probe.ts', import.meta.url)), String(PROBE_RATE), ...urls], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    probe = prober
    let out = ''
    prober.stdout.on('data', (d: Buffer) => { out += d.toString() })
    await new Promise<void>((resolve) => prober.stderr.once('data', () => resolve()))
    await sleep(1_000)
    // A scrape resets the service's event-loop histogram, so the next one covers the burst alone.
    await loopDelay(system.apiUrl!)
    const servicePid = system.servicePid!()
    const serviceBefore = mainThreadTimes(servicePid)
    const idleBefore = mainThreadTimes(idle.pid)
    trace = SCHED_TRACE ? await startSchedTrace(traceFile) : undefined
    await writeBurst(source)
    const lastWrite = performance.now()
    await waitUntil(async () => (await countReplica(replica)) >= BURST_FILES, TIMEOUT_MS, 50)
    const burstS = (performance.now() - lastWrite) / 1000
    const service = timesSince(servicePid, serviceBefore)
    const idleServer = timesSince(idle.pid, idleBefore)
    const loop = await loopDelay(system.apiUrl!)
    const exited = new Promise<void>((resolve) => prober.on('close', () => resolve()))
    prober.kill('SIGTERM')
    await exited
    probe = undefined
    // Only once the probes are in: reading the trace takes seconds of the bench's CPU.
    await trace?.stop()
    const sched = trace && servicePid !== undefined && idle.pid !== undefined
      ? await readSchedTrace(traceFile, [{ label: 'syncplane main thread', pid: servicePid }, { label: 'idle server', pid: idle.pid }], [
        { label: 'syncplane', pid: servicePid },
        { label: 'idle server', pid: idle.pid },
        { label: 'prober', pid: prober.pid! },
        { label: 'bench (the writer)', pid: process.pid },
      ])
      : undefined
    const parsed = JSON.parse(out) as { latencies: Record<string, number[]>; errors: Record<string, number> }
    return { healthz: parsed.latencies[urls[0]!]!, status: parsed.latencies[urls[1]!]!, idle: parsed.latencies[urls[2]!]!, errors: Object.values(parsed.errors).reduce((a, b) => a + b, 0), burstS, loop, service, idleServer, sched }
  } finally {
    await trace?.stop()
    probe?.kill('SIGKILL')
    idle.kill('SIGTERM')
    await system.stop()
  }
}

interface LoopDelay { p50Ms: number; p99Ms: number; maxMs: number }

/** The service's event-loop delay since the previous scrape, from its /metrics: tells its own stalls from CPU scheduling. */
async function loopDelay (apiUrl: string): Promise<LoopDelay> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text()
  const read = (name: string) => Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000
  return { p50Ms: read('p50'), p99Ms: read('p99'), maxMs: read('max') }
}

/** Filtered job-history queries against a database of JOB_ROWS jobs, over HTTP from this process. */
async function jobQueriesAtScale (): Promise<QueryTiming[]> {
  const { ctx, source } = await freshContext('jobs')
  const database = path.join(ctx.root, 'history.db')
  const seeded = seedJobHistory(database, JOB_ROWS)
  const system = syncplaneSystem(ctx, { database })
  await startReady(system, source)
  const since = new Date(Date.now() - 3_600_000).toISOString()
  const firstPage = await fetch(`${system.apiUrl}/v1/jobs?target=web2`).then((r) => r.json() as Promise<{ nextCursor: number }>)
  const timings = await timeJobQueries(system.apiUrl!, [
    '/v1/jobs',
    '/v1/jobs?target=web2',
    `/v1/jobs?target=web2&cursor=${firstPage.nextCursor}`,
    '/v1/jobs?status=failed',
    '/v1/jobs?target=web3&status=failed',
    '/v1/jobs?kind=full',
    '/v1/jobs?trigger=api',
    '/v1/jobs?target=backup&kind=full&status=failed',
    `/v1/jobs?since=${encodeURIComponent(since)}`,
    `/v1/jobs?path=${encodeURIComponent(seeded.samplePath)}`,
    '/v1/jobs?limit=500',
  ], SMOKE ? 20 : 200)
  await system.stop()
  return timings
}

/** BENCH_SYSTEMS=syncplane,… runs only those (the floor always runs). */
if (process.env.BENCH_SYSTEMS !== undefined) {
  const keep = new Set(process.env.BENCH_SYSTEMS.split(','))
  systems.splice(0, systems.length, ...systems.filter(([name]) => keep.has(name)))
}

const results: Record<string, Sample[]> = {}
const floors: number[] = []
const sustainedRows: Array<{ name: string } & SustainedResult & { maxPending: number | null }> = []
const scaleRows: Array<{ name: string; files: number; dirs: number } & ScaleResult> = []
const controls: ControlSample[] = []
let jobTimings: QueryTiming[] = []
try {
  if (ONLY.has('burst')) {
    for (let run = 1; run <= RUNS; run++) {
      floors.push((await floor()).burstS)
      for (const [name, make, isSeed] of systems) {
        process.stderr.write(`burst+latency run ${run}/${RUNS}: ${name}\n`)
        ;(results[name] ??= []).push(await measure(make, isSeed))
      }
    }
  }
  if (ONLY.has('sustained')) {
    // The seed loop cannot keep up with this rate (see the burst), and would leave a backlog of minutes.
    for (const [name, make] of systems.filter(([n]) => n !== 'seed loop')) {
      process.stderr.write(`sustained: ${name}\n`)
      sustainedRows.push({ name, ...(await measureSustained(make)) })
    }
  }
  if (ONLY.has('scale')) {
    const ctxFor = async (label: string, files: number, dirs: number) => {
      const dir = path.join(root, label)
      const source = path.join(dir, 'source')
      process.stderr.write(`scale: writing ${files} files in ${dirs} directories\n`)
      await prepareScaleSource(source, files, dirs)
      return { root: dir, source, daemon, passwordFile, rsync: counting.binary }
    }
    const ctx = await ctxFor('scale', SCALE_FILES, SCALE_DIRS)
    for (const [name, make] of systems.filter(([n]) => n !== 'lsyncd delay=1')) {
      process.stderr.write(`scale ${SCALE_FILES}: ${name}\n`)
      const system = make(ctx)
      scaleRows.push({ name, files: SCALE_FILES, dirs: SCALE_DIRS, ...(await scale(system, ctx.source, system.replicaOf(moduleDir), { timeoutMs: TIMEOUT_MS })) })
    }
    await rm(ctx.root, { recursive: true, force: true })
    await emptyModule()
    const big = await ctxFor('scale-big', BIG_FILES, BIG_DIRS)
    process.stderr.write(`scale ${BIG_FILES}: syncplane\n`)
    const system = syncplaneSystem(big)
    scaleRows.push({ name: 'syncplane', files: BIG_FILES, dirs: BIG_DIRS, ...(await scale(system, big.source, system.replicaOf(moduleDir), { timeoutMs: TIMEOUT_MS })) })
    await rm(big.root, { recursive: true, force: true })
    await emptyModule()
  }
  if (ONLY.has('control')) {
    // The noisiest figures of all (a p99 of a few hundred requests): medians over runs, each run's given too.
    for (let run = 1; run <= RUNS; run++) {
      process.stderr.write(`control plane during the burst, run ${run}/${RUNS}\n`)
      controls.push(await controlPlaneDuringBurst())
    }
    process.stderr.write(`job history queries at ${JOB_ROWS} rows\n`)
    jobTimings = await jobQueriesAtScale()
  }
} finally {
  await daemon.stop()
}

const lines = [
  `syncplane bench — ${SMOKE ? 'SMOKE sizes' : 'full sizes'}; ${RUNS} run(s), medians; ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; rsync daemon on loopback`,
]
let rows: unknown[] = []
const floorS = median(floors)
if (floors.length > 0) {
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
      latencyUnobserved: samples.reduce((n, s) => n + s.latencyUnobserved, 0),
      peakRssMb: median(samples.map((s) => s.rssMb)),
    }
  }
  const burstRows = systems.map(([name]) => row(name))
  rows = burstRows
  lines.push(
    '',
    `### Burst and latency`,
    `burst: ${BURST_FILES} files of 4 KiB into ${BURST_DIRS} directories; latency: ${LATENCY_FILES} files of 4 KiB, one every ${LATENCY_GAP_MS} ms`,
    '',
    '| system | burst: converge after last write | vs rsync floor | burst CPU-s (start-up subtracted) | rsync runs | latency p50 | p99 | max | arrived unobserved | peak RSS in burst |',
    '|---|---|---|---|---|---|---|---|---|---|',
    `| rsync floor (one rsync -a) | ${fmt(floorS)} s | 1.00× | – | 1 | – | – | – | – | – |`,
    ...burstRows.map((r) => `| ${r.name} | ${r.converged ? `${fmt(r.burstS)} s` : `> ${(r.name === 'seed loop' ? SEED_TIMEOUT_MS : TIMEOUT_MS) / 1000} s (gave up)`} | ${r.converged ? `${fmt(r.burstS / floorS)}×` : '–'} | ${r.converged ? fmt(r.burstCpuS) : '–'} | ${r.burstRuns} | ${fmt(r.latencyP50Ms, 0)} ms | ${fmt(r.latencyP99Ms, 0)} ms | ${fmt(r.latencyMaxMs, 0)} ms | ${r.latencyUnobserved} | ${fmt(r.peakRssMb, 0)} MB |`),
  )
  // BENCH_SYSTEMS may have left some out.
  const sp = burstRows.find((r) => r.name === 'syncplane')
  const l0 = burstRows.find((r) => r.name === 'lsyncd delay=0')
  const l1 = burstRows.find((r) => r.name === 'lsyncd delay=1')
  if (sp && l0) lines.push('', `syncplane vs lsyncd delay=0: burst ${fmt(l0.burstS / sp.burstS)}× faster, CPU ${fmt(sp.burstCpuS / l0.burstCpuS)}× of lsyncd's, latency p50 ${fmt(sp.latencyP50Ms / l0.latencyP50Ms)}× of lsyncd's`)
  if (sp && l1) lines.push(`syncplane vs lsyncd delay=1: burst ${fmt(l1.burstS / sp.burstS)}× faster, CPU ${fmt(sp.burstCpuS / l1.burstCpuS)}× of lsyncd's`)
  if (sp) lines.push(`syncplane vs the rsync floor: ${fmt(sp.burstS / floorS)}×; latency p99 ${fmt(sp.latencyP99Ms / sp.latencyP50Ms)}× its own p50`)
}
if (sustainedRows.length > 0) {
  lines.push(
    '',
    '### Sustained',
    `${SUSTAINED_RATE} files of 4 KiB per second for ${SUSTAINED_SEC} s into 10 directories; lag from close on the source to the file in place on the target; backlog = files written, not yet on the target (sampled every 100 ms). The seed loop is not run: it cannot keep up with this rate.`,
    '',
    '| system | lag p50 | lag p99 | lag max | max backlog | backlog, first tenth → last tenth | never arrived | arrived unobserved | max pending (API) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...sustainedRows.map((r) => `| ${r.name} | ${fmt(r.lagP50Ms, 0)} ms | ${fmt(r.lagP99Ms, 0)} ms | ${fmt(r.lagMaxMs, 0)} ms | ${r.maxBacklog} | ${r.backlogFirstTenth} → ${r.backlogLastTenth} | ${r.missing} | ${r.unobserved} | ${r.maxPending ?? '–'} |`),
  )
}
if (scaleRows.length > 0) {
  lines.push(
    '',
    '### Scale',
    'A tree already replicated; time from launch until a file written then reaches the target within 1 s; peak RSS of the system and its children until 2 s after that.',
    '',
    '| system | tree | live after launch | peak RSS |',
    '|---|---|---|---|',
    ...scaleRows.map((r) => `| ${r.name} | ${r.files.toLocaleString('en')} files, ${r.dirs.toLocaleString('en')} dirs | ${fmt(r.liveS)} s | ${fmt(r.peakRssMb, 0)} MB |`),
  )
}
if (controls.length > 0) {
  const endpoints = [['GET /healthz', 'healthz'], ['GET /v1/status', 'status'], ['an idle Node server beside it (the machine\'s floor)', 'idle']] as const
  const each = (f: (c: ControlSample) => number): number[] => controls.map(f)
  lines.push(
    '',
    '### Control plane',
    `During syncplane's burst (${BURST_FILES} files; converged in ${each((c) => c.burstS).map((x) => fmt(x)).join(', ')} s), from a separate process, ${PROBE_RATE} requests/s to each endpoint; ${controls.reduce((n, c) => n + c.errors, 0)} errors; ${controls.length} run(s), medians of each run's figures.`,
    '',
    '| endpoint | requests | p50 | p99 | p99 of each run | max |',
    '|---|---|---|---|---|---|',
    ...endpoints.map(([label, key]) => `| ${label} | ${controls.reduce((n, c) => n + c[key].length, 0)} | ${fmt(median(each((c) => pct(c[key], 50))))} ms | ${fmt(median(each((c) => pct(c[key], 99))))} ms | ${each((c) => pct(c[key], 99)).map((x) => fmt(x, 1)).join(', ')} ms | ${fmt(Math.max(...controls.flatMap((c) => c[key])))} ms |`),
    '',
    `From the burst's first write until it converged, the service's main thread (which answers HTTP) ran ${fmt(median(each((c) => c.service.runMs)), 0)} ms and waited, runnable, ${fmt(median(each((c) => c.service.waitMs)), 0)} ms for a CPU; the idle server's ran ${fmt(median(each((c) => c.idleServer.runMs)), 0)} ms and waited ${fmt(median(each((c) => c.idleServer.waitMs)), 0)} ms (medians; each run, service ran/waited: ${controls.map((c) => `${fmt(c.service.runMs, 0)}/${fmt(c.service.waitMs, 0)}`).join(', ')} ms).`,
    '',
    `The service's own event-loop delay over the burst (from its /metrics, sampled every 10 ms, so 10 ms is no delay): p50 ${fmt(median(each((c) => c.loop.p50Ms)))} ms, p99 ${fmt(median(each((c) => c.loop.p99Ms)))} ms (each run: ${each((c) => c.loop.p99Ms).map((x) => fmt(x, 1)).join(', ')}), max ${fmt(Math.max(...each((c) => c.loop.maxMs)))} ms.`,
  )
  const traced = controls.flatMap((c) => c.sched ?? [])
  if (traced.length > 0) lines.push('', ...schedTable(traced, controls.length))
}

if (jobTimings.length > 0) {
  lines.push(
    '',
    `Job history at ${JOB_ROWS.toLocaleString('en')} rows (one request at a time, keep-alive):`,
    '',
    '| query | p50 | p99 | max |',
    '|---|---|---|---|',
    ...jobTimings.map((t) => `| \`${t.query.replace(/cursor=\d+/, 'cursor=…').replace(/since=[^&]+/, 'since=<1 h ago>')}\` | ${fmt(t.p50Ms)} ms | ${fmt(t.p99Ms)} ms | ${fmt(t.maxMs)} ms |`),
  )
}
process.stdout.write(`${lines.join('\n')}\n`)
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'results')
await mkdir(out, { recursive: true })
await writeFile(path.join(out, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ smoke: SMOKE, runs: RUNS, floorS, rows, raw: results, sustained: sustainedRows, scale: scaleRows, control: controls, jobTimings }, null, 2))
await rm(root, { recursive: true, force: true })
