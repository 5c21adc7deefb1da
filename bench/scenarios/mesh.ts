import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, watch, type FSWatcher } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { sleep, waitUntil } from '../common.js'
import type { Harness } from '../harness.js'
import { runChurn, seedTree } from '../mesh-churn.js'
import { differingPaths, judge, snapshotTree, type TreeSnapshot } from '../mesh-oracle.js'
import type { MeshSystem } from '../mesh-system.js'
import { meshContenders, type MeshContender } from '../mesh-systems.js'
import { summarize, type ChurnSample, type MeshResult, type MeshSample, type PerfSample } from './mesh-summary.js'

/**
 * The mesh workloads, every system side by side in one run (a fresh set of
 * nodes for each workload group, one system at a time):
 *
 * 1. Burst: `mesh.burst.files` distinct random 4 KiB files written as fast
 *    as possible into existing directories on node A; from the last write
 *    until every other node holds every file (a name without a leading dot:
 *    each system renames or links a complete file into place). CPU-seconds
 *    and the peak of summed RSS of every process of the system (accounting.ts).
 * 2. Latency: 4 KiB files one every `gapMs` on node A, open loop; from
 *    close() until the file is in place on node B (and on every node).
 * 3. Churn: a seeded writer on every node at once, plus forced conflicts;
 *    then how long until the trees are the same and the system idle, the
 *    oracle's counts (mesh-oracle.ts), and what the system still transfers
 *    in the `echoSec` after that (echo).
 */
export async function runMesh (h: Harness): Promise<MeshResult> {
  const contenders = meshContenders(h.settings.mesh.systems)
  const unavailable = contenders.flatMap((c) => { const why = c.unavailable(); return why === null ? [] : [{ name: c.name, why }] })
  const runnable = contenders.filter((c) => c.unavailable() === null)
  const raw: Record<string, MeshSample[]> = {}
  const setups = new Map<string, { setup: string, unit: string }>()
  for (let run = 1; run <= h.settings.runs; run++) {
    for (const c of runnable) {
      const sample: MeshSample = {}
      try {
        process.stderr.write(`mesh run ${run}/${h.settings.runs}: ${c.name} burst + latency\n`)
        sample.perf = await withSystem(h, c, false, setups, (sys) => measurePerf(h, sys))
        if (h.settings.mesh.churn.seconds > 0) {
          process.stderr.write(`mesh run ${run}/${h.settings.runs}: ${c.name} churn\n`)
          sample.churn = await withSystem(h, c, true, setups, (sys) => measureChurn(h, sys))
        }
      } catch (err) {
        sample.error = (err as Error).message.split('\n').slice(0, 3).join(' ')
        process.stderr.write(`mesh: ${c.name} failed: ${(err as Error).stack}\n`)
      }
      ;(raw[c.name] ??= []).push(sample)
    }
  }
  const rows = h.settings.runs === 0 ? [] : runnable.map((c) => summarize(c, setups.get(c.name), raw[c.name] ?? []))
  return { raw, rows, unavailable }
}

/** A fresh set of nodes for `fn`, stopped and removed afterwards whatever happens. */
async function withSystem<T> (h: Harness, c: MeshContender, audit: boolean, setups: Map<string, { setup: string, unit: string }>, fn: (sys: MeshSystem) => Promise<T>): Promise<T> {
  const dir = path.join(h.root, `mesh-${c.name.replace(/\W+/g, '-')}-${Date.now()}`)
  await mkdir(dir, { recursive: true })
  const sys = c.make(dir, { settings: h.settings, audit })
  try {
    const result = await fn(sys)
    if (!audit || !setups.has(c.name)) setups.set(c.name, { setup: sys.setup, unit: sys.transferUnit })
    return result
  } finally {
    await sys.stop().catch((err) => process.stderr.write(`mesh: stopping ${c.name}: ${(err as Error).message}\n`))
    await rm(dir, { recursive: true, force: true })
  }
}

const dirName = (d: number): string => `d${d}`

/** Starts the system on A's prepared tree and waits until every node holds `dirs` and all say idle; seconds. */
async function startReady (h: Harness, sys: MeshSystem, ready: () => boolean | Promise<boolean>): Promise<number> {
  const started = performance.now()
  await sys.start()
  const ok = await waitUntil(async () => (await ready()) && sys.idle(), h.settings.mesh.timeoutMs, 100)
  if (!ok) throw new Error(`${sys.name}: the nodes did not reach the start state within ${h.settings.mesh.timeoutMs / 1000} s`)
  return (performance.now() - started) / 1000
}

async function measurePerf (h: Harness, sys: MeshSystem): Promise<PerfSample> {
  const { burst } = h.settings.mesh
  const [a, ...others] = sys.roots as [string, ...string[]]
  await mkdir(path.join(a, 'lat'), { recursive: true })
  for (let d = 0; d < burst.dirs; d++) await mkdir(path.join(a, dirName(d)), { recursive: true })
  const startS = await startReady(h, sys, () => others.every((r) => existsSync(path.join(r, 'lat')) && existsSync(path.join(r, dirName(burst.dirs - 1)))))
  const latency = await measureLatency(h, sys)
  return { ready: true, startS, ...latency, ...(await measureBurst(h, sys)) }
}

async function measureLatency (h: Harness, sys: MeshSystem): Promise<Pick<PerfSample, 'latencies' | 'latenciesAll' | 'latencyUnobserved' | 'latencyCpuS'>> {
  const { files, gapMs } = h.settings.mesh.latency
  const [a, ...others] = sys.roots as [string, ...string[]]
  const appeared = others.map(() => new Map<string, number>())
  const watchers: FSWatcher[] = others.map((r, i) => watch(path.join(r, 'lat'), (_e, name) => {
    if (name && !name.startsWith('.') && !appeared[i]!.has(name)) appeared[i]!.set(name, performance.now())
  }))
  const cpu0 = sys.account.cpuS()
  const written = new Map<string, number>()
  for (let i = 0; i < files; i++) {
    const name = `lat-${i}`
    await writeFile(path.join(a, 'lat', name), randomBytes(4096))
    written.set(name, performance.now())
    await sleep(gapMs)
  }
  const onNode = (i: number, name: string): boolean => existsSync(path.join(others[i]!, 'lat', name))
  await waitUntil(() => [...written.keys()].every((name) => others.every((_, i) => appeared[i]!.has(name) || onNode(i, name))), h.settings.mesh.timeoutMs, 20)
  const latencyCpuS = sys.account.cpuS() - cpu0
  for (const w of watchers) w.close()
  let latencyUnobserved = 0
  // A file the watch did not report but that is there has no latency; one that never arrived an infinite one.
  const latenciesOn = (i: number): number[] => [...written].flatMap(([name, at]) => {
    const seen = appeared[i]!.get(name)
    if (seen !== undefined) return [seen - at]
    if (onNode(i, name)) {
      latencyUnobserved++
      return []
    }
    return [Infinity]
  })
  const perNode = others.map((_, i) => latenciesOn(i))
  return { latencies: perNode[0]!, latenciesAll: perNode.flat(), latencyUnobserved, latencyCpuS }
}

/** Complete burst files on a node: names without a leading dot in the burst's directories. */
function countBurst (root: string, dirs: number): number {
  let n = 0
  for (let d = 0; d < dirs; d++) {
    try {
      for (const name of readdirSync(path.join(root, dirName(d)))) if (!name.startsWith('.')) n++
    } catch {}
  }
  return n
}

async function measureBurst (h: Harness, sys: MeshSystem): Promise<Omit<PerfSample, 'ready' | 'startS' | 'latencies' | 'latenciesAll' | 'latencyUnobserved' | 'latencyCpuS'>> {
  const { files, dirs } = h.settings.mesh.burst
  const [a, ...others] = sys.roots as [string, ...string[]]
  // Distinct random bytes, made beforehand: nothing but writes between the first and the last.
  const contents = Array.from({ length: files }, () => randomBytes(4096))
  const transfers0 = (await sys.transfers()).detail
  const memory = sys.account.sampleMemory(250)
  const cpu0 = sys.account.cpuS()
  const firstWrite = performance.now()
  for (let i = 0; i < files; i += 500) {
    await Promise.all(contents.slice(i, i + 500).map((bytes, k) => writeFile(path.join(a, dirName((i + k) % dirs), `f${i + k}`), bytes)))
  }
  const lastWrite = performance.now()
  const converged = await waitUntil(() => others.every((r) => countBurst(r, dirs) >= files), h.settings.mesh.timeoutMs, 100)
  const done = performance.now()
  const burstCpuS = sys.account.cpuS() - cpu0
  const hwmMb = sys.account.hwm() / 1e6
  const peak = memory.stop()
  const peakRssMb = peak.rss / 1e6
  const peakPssMb = peak.pss / 1e6
  const transfers1 = (await sys.transfers()).detail
  const transfers = Object.fromEntries(Object.entries(transfers1).map(([k, v]) => [k, v - (transfers0[k] ?? 0)]))
  // Outside the timing: the same bytes everywhere?
  const burstOnly = (snap: TreeSnapshot): string => [...snap].filter(([p]) => /^d\d+\//.test(p)).map(([p, e]) => `${p}:${e.hash}`).sort().join('\n')
  const ref = burstOnly(snapshotTree(a, sys.internal))
  const identical = converged && others.every((r) => burstOnly(snapshotTree(r, sys.internal)) === ref)
  return {
    burstS: converged ? (done - lastWrite) / 1000 : Infinity,
    burstWriteS: (lastWrite - firstWrite) / 1000,
    converged,
    identical,
    burstCpuS,
    peakRssMb,
    peakPssMb,
    hwmMb,
    transfers,
  }
}

async function measureChurn (h: Harness, sys: MeshSystem): Promise<ChurnSample> {
  const { churn } = h.settings.mesh
  const roots = sys.roots
  const seedOps = await seedTree(roots[0]!, { dirs: 5, files: 8, seed: churn.seed })
  const snaps = (): TreeSnapshot[] => roots.map((r) => snapshotTree(r, sys.internal))
  await startReady(h, sys, () => differingPaths(snaps()).length === 0)
  const trash = roots.map((r, i) => path.join(path.dirname(r), `churn-trash-${i}`))
  for (const t of trash) await mkdir(t, { recursive: true })
  const cpu0 = sys.account.cpuS()
  const transfers0 = (await sys.transfers()).detail
  const { ops, skipped } = await runChurn({
    roots, trash, internal: sys.internal, seed: churn.seed, durationMs: churn.seconds * 1000, gapMs: churn.gapMs, conflictEveryMs: churn.conflictEveryMs,
  })
  const stopped = performance.now()

  // Settled: the trees the same and the system idle, twice in a row; given up at the cap, or after 10 s without any change while idle.
  let settledAt = Infinity
  let candidate: number | null = null
  let lastDigest = ''
  let lastChange = performance.now()
  let last: TreeSnapshot[] = []
  while (performance.now() - stopped < churn.settleCapS * 1000) {
    const at = performance.now()
    last = snaps()
    const digest = last.map((s) => [...s].map(([p, e]) => `${p}:${e.type}:${e.hash}`).sort().join('\n')).join('\n--\n')
    if (digest !== lastDigest) {
      lastDigest = digest
      lastChange = at
    }
    const idle = await sys.idle()
    if (differingPaths(last).length === 0 && idle) {
      if (candidate !== null) {
        settledAt = candidate
        break
      }
      candidate = at
    } else {
      candidate = null
      if (idle && performance.now() - lastChange > 10_000) break
    }
    await sleep(500)
  }
  const verdict = judge([...seedOps, ...ops], last)
  const cpuS = sys.account.cpuS() - cpu0
  const transfers1 = (await sys.transfers()).detail
  const transfers = Object.fromEntries(Object.entries(transfers1).map(([k, v]) => [k, v - (transfers0[k] ?? 0)]))

  // Echo: what it still does once everything is done.
  const events = await countFsEvents(roots, sys.internal)
  const echo0 = (await sys.transfers()).main
  await sleep(churn.echoSec * 1000)
  const echoTransfers = (await sys.transfers()).main - echo0
  const echoFsEvents = await events.stop()
  const differing = differingPaths(last)
  if (differing.length > 0) {
    const state = (p: string): string => last.map((s, i) => `n${i} ${s.get(p)?.type ?? '-'}${s.get(p)?.uid === undefined ? '' : ` ${s.get(p)!.uid}:${s.get(p)!.size}`}`).join(', ')
    process.stderr.write(`mesh churn ${sys.name}: differing\n  ${differing.slice(0, 5).map((p) => `${JSON.stringify(p)}: ${state(p)}`).join('\n  ')}\n`)
  }
  if (verdict.lost > 0) process.stderr.write(`mesh churn ${sys.name}: lost ${verdict.lostExamples.join(' ')}\n`)
  if (verdict.resurrected > 0) process.stderr.write(`mesh churn ${sys.name}: resurrected\n  ${verdict.resurrectedDetails.join('\n  ')}\n`)
  return {
    ...verdict,
    skipped,
    settleS: settledAt === Infinity ? Infinity : (settledAt - stopped) / 1000,
    cpuS,
    transfers,
    echoTransfers,
    echoFsEvents,
  }
}

/** inotifywait on every tree (the system's own directories left out); stop() ends it and returns the events counted. */
async function countFsEvents (roots: readonly string[], internal: (rel: string) => boolean): Promise<{ stop: () => Promise<number> }> {
  const child = spawn('inotifywait', ['-m', '-r', '--format', '%w%f', ...roots], { stdio: ['ignore', 'pipe', 'pipe'] })
  let events = 0
  let partial = ''
  child.stdout.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      const root = roots.find((r) => line.startsWith(`${r}/`))
      if (root !== undefined && !internal(line.slice(root.length + 1))) events++
    }
  })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  const ready = await waitUntil(() => err.includes('Watches established') || child.exitCode !== null, 30_000, 20)
  if (!ready || child.exitCode !== null) {
    child.kill('SIGKILL')
    return { stop: async () => NaN }
  }
  return {
    async stop () {
      child.kill('SIGTERM')
      await exited
      return events
    },
  }
}
