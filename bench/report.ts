import { cpus, totalmem } from 'node:os'
import { fmt, median, pct } from './common.js'
import { schedTable } from './sched-trace.js'
import type { BenchSettings } from './settings.js'
import type { BurstLatencyResult, BurstRow } from './scenarios/burst-latency.js'
import type { ControlSample } from './scenarios/control-plane.js'
import type { QueryTiming } from './scenarios/job-history.js'
import type { ScaleRow } from './scenarios/scale.js'
import type { SustainedRow } from './scenarios/sustained.js'

/** What one bench run measured; a scenario left out (BENCH_ONLY) is missing. */
export interface BenchResults {
  burst?: BurstLatencyResult
  sustained?: SustainedRow[]
  scale?: ScaleRow[]
  control?: ControlSample[]
  jobHistory?: QueryTiming[]
}

/** One Markdown table row. */
const tr = (cells: ReadonlyArray<string | number>): string => `| ${cells.join(' | ')} |`
const header = (cells: readonly string[]): string[] => [tr(cells), `|${'---|'.repeat(cells.length)}`]
const ms = (x: number, digits = 2): string => `${fmt(x, digits)} ms`

/** The whole report, as printed on stdout: a title line, then a section per scenario that ran. */
export function renderReport (settings: BenchSettings, results: BenchResults): string {
  const lines = [
    `syncplane bench — ${settings.smoke ? 'SMOKE sizes' : 'full sizes'}; ${settings.runs} run(s), medians; ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; rsync daemon on loopback`,
  ]
  if (results.burst !== undefined && results.burst.floors.length > 0) lines.push(...burstSection(settings, results.burst))
  if (results.sustained !== undefined && results.sustained.length > 0) lines.push(...sustainedSection(settings, results.sustained))
  if (results.scale !== undefined && results.scale.length > 0) lines.push(...scaleSection(results.scale))
  if (results.control !== undefined && results.control.length > 0) lines.push(...controlSection(settings, results.control))
  if (results.jobHistory !== undefined && results.jobHistory.length > 0) lines.push(...jobHistorySection(settings, results.jobHistory))
  return `${lines.join('\n')}\n`
}

function burstSection (settings: BenchSettings, { floorS, rows }: BurstLatencyResult): string[] {
  const { burst, latency } = settings
  const gaveUp = (r: BurstRow): string => `> ${(r.name === 'seed loop' ? settings.seedTimeoutMs : settings.timeoutMs) / 1000} s (gave up)`
  const lines = [
    '',
    '### Burst and latency',
    `burst: ${burst.files} files of 4 KiB into ${burst.dirs} directories; latency: ${latency.files} files of 4 KiB, one every ${latency.gapMs} ms`,
    '',
    ...header([
      'system', 'burst: converge after last write', 'vs rsync floor', 'burst CPU-s (start-up subtracted)', 'rsync runs',
      'latency p50', 'p99', 'max', 'arrived unobserved', 'peak RSS in burst',
    ]),
    tr(['rsync floor (one rsync -a)', `${fmt(floorS)} s`, '1.00×', '–', 1, '–', '–', '–', '–', '–']),
    ...rows.map((r) => tr([
      r.name,
      r.converged ? `${fmt(r.burstS)} s` : gaveUp(r),
      r.converged ? `${fmt(r.burstS / floorS)}×` : '–',
      r.converged ? fmt(r.burstCpuS) : '–',
      r.burstRuns,
      ms(r.latencyP50Ms, 0),
      ms(r.latencyP99Ms, 0),
      ms(r.latencyMaxMs, 0),
      r.latencyUnobserved,
      `${fmt(r.peakRssMb, 0)} MB`,
    ])),
  ]
  // BENCH_SYSTEMS may have left some out.
  const sp = rows.find((r) => r.name === 'syncplane')
  const l0 = rows.find((r) => r.name === 'lsyncd delay=0')
  const l1 = rows.find((r) => r.name === 'lsyncd delay=1')
  if (sp && l0) lines.push('', `syncplane vs lsyncd delay=0: burst ${fmt(l0.burstS / sp.burstS)}× faster, CPU ${fmt(sp.burstCpuS / l0.burstCpuS)}× of lsyncd's, latency p50 ${fmt(sp.latencyP50Ms / l0.latencyP50Ms)}× of lsyncd's`)
  if (sp && l1) lines.push(`syncplane vs lsyncd delay=1: burst ${fmt(l1.burstS / sp.burstS)}× faster, CPU ${fmt(sp.burstCpuS / l1.burstCpuS)}× of lsyncd's`)
  if (sp) lines.push(`syncplane vs the rsync floor: ${fmt(sp.burstS / floorS)}×; latency p99 ${fmt(sp.latencyP99Ms / sp.latencyP50Ms)}× its own p50`)
  return lines
}

function sustainedSection (settings: BenchSettings, rows: SustainedRow[]): string[] {
  const { rate, seconds } = settings.sustained
  return [
    '',
    '### Sustained',
    `${rate} files of 4 KiB per second for ${seconds} s into 10 directories; lag from close on the source to the file in place on the target; ` +
      'backlog = files written, not yet on the target (sampled every 100 ms). The seed loop is not run: it cannot keep up with this rate.',
    '',
    ...header([
      'system', 'lag p50', 'lag p99', 'lag max', 'max backlog', 'backlog, first tenth → last tenth',
      'never arrived', 'arrived unobserved', 'max pending (API)',
    ]),
    ...rows.map((r) => tr([
      r.name,
      ms(r.lagP50Ms, 0),
      ms(r.lagP99Ms, 0),
      ms(r.lagMaxMs, 0),
      r.maxBacklog,
      `${r.backlogFirstTenth} → ${r.backlogLastTenth}`,
      r.missing,
      r.unobserved,
      r.maxPending ?? '–',
    ])),
  ]
}

function scaleSection (rows: ScaleRow[]): string[] {
  return [
    '',
    '### Scale',
    'A tree already replicated; time from launch until a file written then reaches the target within 1 s; peak RSS of the system and its children until 2 s after that.',
    '',
    ...header(['system', 'tree', 'live after launch', 'peak RSS']),
    ...rows.map((r) => tr([r.name, `${r.files.toLocaleString('en')} files, ${r.dirs.toLocaleString('en')} dirs`, `${fmt(r.liveS)} s`, `${fmt(r.peakRssMb, 0)} MB`])),
  ]
}

function controlSection (settings: BenchSettings, controls: ControlSample[]): string[] {
  const endpoints = [['GET /healthz', 'healthz'], ['GET /v1/status', 'status'], ['an idle Node server beside it (the machine\'s floor)', 'idle']] as const
  const each = (f: (c: ControlSample) => number): number[] => controls.map(f)
  const med = (f: (c: ControlSample) => number): number => median(each(f))
  const converged = each((c) => c.burstS).map((x) => fmt(x)).join(', ')
  const errors = controls.reduce((n, c) => n + c.errors, 0)
  const perRun = controls.map((c) => `${fmt(c.service.runMs, 0)}/${fmt(c.service.waitMs, 0)}`).join(', ')
  const lines = [
    '',
    '### Control plane',
    `During syncplane's burst (${settings.burst.files} files; converged in ${converged} s), from a separate process, ${settings.control.probeRate} requests/s to each endpoint; ` +
      `${errors} errors; ${controls.length} run(s), medians of each run's figures.`,
    '',
    ...header(['endpoint', 'requests', 'p50', 'p99', 'p99 of each run', 'max']),
    ...endpoints.map(([label, key]) => tr([
      label,
      controls.reduce((n, c) => n + c[key].length, 0),
      ms(med((c) => pct(c[key], 50))),
      ms(med((c) => pct(c[key], 99))),
      `${each((c) => pct(c[key], 99)).map((x) => fmt(x, 1)).join(', ')} ms`,
      ms(Math.max(...controls.flatMap((c) => c[key]))),
    ])),
    '',
    `From the burst's first write until it converged, the service's main thread (which answers HTTP) ran ${fmt(med((c) => c.service.runMs), 0)} ms ` +
      `and waited, runnable, ${fmt(med((c) => c.service.waitMs), 0)} ms for a CPU; ` +
      `the idle server's ran ${fmt(med((c) => c.idleServer.runMs), 0)} ms and waited ${fmt(med((c) => c.idleServer.waitMs), 0)} ms ` +
      `(medians; each run, service ran/waited: ${perRun} ms).`,
    '',
    `The service's own event-loop delay over the burst (from its /metrics, sampled every 10 ms, so 10 ms is no delay): p50 ${fmt(med((c) => c.loop.p50Ms))} ms, ` +
      `p99 ${fmt(med((c) => c.loop.p99Ms))} ms (each run: ${each((c) => c.loop.p99Ms).map((x) => fmt(x, 1)).join(', ')}), ` +
      `max ${fmt(Math.max(...each((c) => c.loop.maxMs)))} ms.`,
  ]
  const traced = controls.flatMap((c) => c.sched ?? [])
  if (traced.length > 0) lines.push('', ...schedTable(traced, controls.length))
  return lines
}

function jobHistorySection (settings: BenchSettings, timings: QueryTiming[]): string[] {
  // The cursor and the time differ each run: the table names them.
  const label = (query: string): string => `\`${query.replace(/cursor=\d+/, 'cursor=…').replace(/since=[^&]+/, 'since=<1 h ago>')}\``
  return [
    '',
    `Job history at ${settings.jobHistory.rows.toLocaleString('en')} rows (one request at a time, keep-alive):`,
    '',
    ...header(['query', 'p50', 'p99', 'max']),
    ...timings.map((t) => tr([label(t.query), ms(t.p50Ms), ms(t.p99Ms), ms(t.maxMs)])),
  ]
}
