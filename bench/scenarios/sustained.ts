import { existsSync, watch, type FSWatcher } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pct, sleep, waitUntil } from '../common.js'
import type { Harness } from '../harness.js'
import type { Contender, System } from '../systems.js'

/**
 * Workload 3: a steady stream of 4 KiB files (`settings.sustained.rate` per
 * second for `seconds`); the lag of each file, and the backlog over the run.
 */

export interface SustainedRow extends SustainedResult {
  name: string
  /** The most paths syncplane said it held pending (GET /v1/status); null for systems without an API. */
  maxPending: number | null
}

export interface SustainedResult {
  written: number
  lagP50Ms: number
  lagP99Ms: number
  lagMaxMs: number
  /** Most files written but not yet on the target, sampled each 100 ms. */
  maxBacklog: number
  /** Files whose arrival the replica's inotify watch did not report, found there at the end. */
  unobserved: number
  /** The same in the run's last tenth: bounded if it is no larger than in its first. */
  backlogFirstTenth: number
  backlogLastTenth: number
  missing: number
}

const DIRS = 10

/**
 * `rate` files of 4 KiB per second for `seconds`, spread over ten existing
 * directories; the lag of each file is from its write on the source to its
 * rename into place on the target (rsync writes a temp file first).
 */
async function sustained (system: System, source: string, replica: string, opts: { rate: number; seconds: number; drainMs: number }): Promise<SustainedResult> {
  const written = new Map<string, number>()
  const arrived = new Map<string, number>()
  const watchers: FSWatcher[] = []
  for (let d = 0; d < DIRS; d++) {
    await mkdir(path.join(replica, `s${d}`), { recursive: true })
    watchers.push(watch(path.join(replica, `s${d}`), (_e, name) => {
      // Only the workload's own names: a change to the watched directory itself is reported under its own name (s0…s9).
      if (name && name.startsWith('s-') && !arrived.has(name)) arrived.set(name, performance.now())
    }))
  }
  const backlog: number[] = []
  const sampler = setInterval(() => backlog.push(written.size - arrived.size), 100)
  const total = opts.rate * opts.seconds
  const started = performance.now()
  let n = 0
  while (n < total) {
    // Catch up to the schedule in small steps, so the rate holds even when a write stalls.
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * opts.rate))
    const batch: Promise<void>[] = []
    for (; n < due; n++) {
      const name = `s-${n}`
      batch.push(writeFile(path.join(source, `s${n % DIRS}`, name), Buffer.alloc(4096, n % 251)).then(() => { written.set(name, performance.now()) }))
    }
    await Promise.all(batch)
    await sleep(10)
  }
  clearInterval(sampler)
  const expected = [...written.keys()]
  await waitUntil(() => expected.every((name) => arrived.has(name)), opts.drainMs, 200)
  const strays = [...arrived.keys()].filter((n) => !written.has(n))
  if (strays.length > 0) process.stderr.write(`sustained: strays ${strays.slice(0, 10).join(' ')}\n`)
  for (const w of watchers) w.close()
  // A watch on a busy directory can drop events (the bench writes here too): look before calling a file lost.
  let unobserved = 0
  for (const [name] of written) {
    if (arrived.has(name)) continue
    const n = Number(name.slice(2))
    if (existsSync(path.join(replica, `s${n % DIRS}`, name))) unobserved++
  }
  const lost = [...written.keys()].filter((name) => !arrived.has(name) && !existsSync(path.join(replica, `s${Number(name.slice(2)) % DIRS}`, name)))
  if (lost.length > 0) process.stderr.write(`sustained: not on the target after ${opts.drainMs} ms: ${lost.slice(0, 20).join(' ')}\n`)
  const lags = [...written].filter(([name]) => arrived.has(name) || lost.includes(name))
    .map(([name, at]) => (arrived.get(name) ?? Infinity) - at)
  const tenth = Math.max(1, Math.floor(backlog.length / 10))
  return {
    written: total,
    lagP50Ms: pct(lags, 50),
    lagP99Ms: pct(lags, 99),
    lagMaxMs: Math.max(...lags),
    maxBacklog: Math.max(0, ...backlog),
    backlogFirstTenth: Math.max(0, ...backlog.slice(0, tenth)),
    backlogLastTenth: Math.max(0, ...backlog.slice(-tenth)),
    unobserved,
    missing: lost.length,
  }
}

async function prepareSustained (source: string): Promise<void> {
  for (let d = 0; d < DIRS; d++) await mkdir(path.join(source, `s${d}`), { recursive: true })
}

/** Every system but the seed loop, which cannot keep up with this rate (see the burst) and would leave a backlog of minutes. */
export async function runSustained (h: Harness, systems: readonly Contender[]): Promise<SustainedRow[]> {
  const rows: SustainedRow[] = []
  for (const contender of systems.filter((c) => !c.seed)) {
    process.stderr.write(`sustained: ${contender.name}\n`)
    rows.push({ name: contender.name, ...(await measureSustained(h, contender)) })
  }
  return rows
}

/** Sustained load on a fresh, ready system. */
async function measureSustained (h: Harness, contender: Contender): Promise<SustainedResult & { maxPending: number | null }> {
  const { ctx, source } = await h.freshContext('sustained')
  await prepareSustained(source)
  const system = contender.make(ctx)
  const replica = await h.startReady(system, source)
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
  const { rate, seconds } = h.settings.sustained
  const result = await sustained(system, source, replica, { rate, seconds, drainMs: h.settings.seedTimeoutMs })
  sampling = false
  await sampler
  await system.stop()
  return { ...result, maxPending }
}
