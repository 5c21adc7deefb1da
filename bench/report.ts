import { cpus, totalmem } from 'node:os'
import { fmt, median, pct } from './common.js'
import { schedTable } from './sched-trace.js'
import type { BenchSettings } from './settings.js'
import type { BurstLatencyResult, BurstRow } from './scenarios/burst-latency.js'
import type { ControlSample } from './scenarios/control-plane.js'
import type { QueryTiming } from './scenarios/job-history.js'
import type { ChurnSample, MeshResult, MeshRow } from './scenarios/mesh-summary.js'
import type { ScaleRow } from './scenarios/scale.js'
import type { SustainedRow } from './scenarios/sustained.js'

/** What one bench run measured; a scenario left out (BENCH_ONLY) is missing. */
export interface BenchResults {
  /** What the trees were on (bench/work-fs.ts). */
  fs?: string
  burst?: BurstLatencyResult
  sustained?: SustainedRow[]
  scale?: ScaleRow[]
  control?: ControlSample[]
  jobHistory?: QueryTiming[]
  mesh?: MeshResult
}

/** One Markdown table row. */
const tr = (cells: ReadonlyArray<string | number>): string => `| ${cells.join(' | ')} |`
const header = (cells: readonly string[]): string[] => [tr(cells), `|${'---|'.repeat(cells.length)}`]
const ms = (x: number, digits = 2): string => `${fmt(x, digits)} ms`

/** The whole report, as printed on stdout: a title line, then a section per scenario that ran. */
export function renderReport (settings: BenchSettings, results: BenchResults): string {
  const lines = [
    `syncplane bench — ${settings.smoke ? 'SMOKE sizes' : 'full sizes'}; ${settings.runs} run(s), medians; ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; rsync daemon on loopback; trees on ${results.fs ?? 'TMPDIR'}`,
  ]
  if (results.burst !== undefined && results.burst.floors.length > 0) lines.push(...burstSection(settings, results.burst))
  if (results.sustained !== undefined && results.sustained.length > 0) lines.push(...sustainedSection(settings, results.sustained))
  if (results.scale !== undefined && results.scale.length > 0) lines.push(...scaleSection(results.scale))
  if (results.control !== undefined && results.control.length > 0) lines.push(...controlSection(settings, results.control))
  if (results.jobHistory !== undefined && results.jobHistory.length > 0) lines.push(...jobHistorySection(settings, results.jobHistory))
  if (results.mesh !== undefined) lines.push(...meshSection(settings, results.mesh))
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

/** A median, with each run's figure after it when there were several. */
const perRun = (xs: number[], digits = 0): string =>
  xs.length === 0 ? '–' : xs.length === 1 ? fmt(xs[0]!, digits) : `${fmt(median(xs), digits)} (${xs.map((x) => fmt(x, digits)).join(', ')})`

function meshSection (settings: BenchSettings, { rows, unavailable }: MeshResult): string[] {
  const { burst, latency, churn } = settings.mesh
  const sp = rows.find((r) => r.name === 'syncplane mesh')
  const vs = (r: MeshRow, f: (r: MeshRow) => number): string => (sp === undefined ? '–' : `${fmt(f(r) / f(sp))}×`)
  const transfers = (r: MeshRow): string => Object.entries(r.transfers).map(([k, v]) => `${k} ${fmt(v, Number.isInteger(v) ? 0 : 1)}`).join(', ')
  const lines = [
    '',
    '### Mesh',
    `Every node on this machine with a tree of its own; the workloads write on node A. Burst: ${burst.files} distinct random files of 4 KiB into ${burst.dirs} existing directories, ` +
      'from the last write until every other node holds every file; CPU-s and RSS of every process of the system (rsync runs, daemons and helpers included). ' +
      `Latency: ${latency.files} files of 4 KiB, one every ${latency.gapMs} ms, from close() on A to the file in place on node B (and on every node). ` +
      '"vs syncplane": the system\'s figure over syncplane\'s.',
    '',
    ...header([
      'system', 'nodes', 'burst: converged after last write', 'vs syncplane', 'write time', 'burst CPU-s', 'vs syncplane',
      'peak RSS (sum, sampled)', 'vs syncplane', 'peak PSS (sum, sampled)', 'vs syncplane', 'Σ VmHWM', 'transfers', 'latency p50 (B)', 'p99 (B)', 'p99 (all nodes)', 'latency CPU-s',
    ]),
    ...rows.map((r) => r.failed
      ? tr([r.name, r.nodes, 'failed (see below)', ...Array(14).fill('–')])
      : tr([
        r.name,
        r.nodes,
        r.converged
          ? `${fmt(r.burstS)} s${r.unconverged > 0 ? ` (${r.unconverged} run(s) gave up)` : ''}${r.identical ? '' : ' (trees differ!)'}`
          : `> ${settings.mesh.timeoutMs / 1000} s (gave up)`,
        r.converged ? vs(r, (x) => x.burstS) : '–',
      `${fmt(r.burstWriteS)} s`,
      fmt(r.burstCpuS),
      vs(r, (x) => x.burstCpuS),
      `${fmt(r.peakRssMb, 0)} MB`,
      vs(r, (x) => x.peakRssMb),
      `${fmt(r.peakPssMb, 0)} MB`,
      vs(r, (x) => x.peakPssMb),
      `${fmt(r.hwmMb, 0)} MB`,
      transfers(r),
      ms(r.latencyP50Ms, 0),
      ms(r.latencyP99Ms, 0),
      `${ms(r.latencyAllP99Ms, 0)}${r.latencyMissing > 0 ? ` (${r.latencyMissing} never arrived)` : ''}`,
      fmt(r.latencyCpuS),
      ])),
  ]
  const withChurn = rows.filter((r) => r.churn.length > 0)
  if (withChurn.length > 0) {
    const each = (r: MeshRow, f: (c: ChurnSample) => number, digits = 0): string => perRun(r.churn.map(f), digits)
    lines.push(
      '',
      `Churn: a seeded writer on every node at once for ${churn.seconds} s (seed ${churn.seed}; one op every ${churn.gapMs} ms each: creates, appends, in-place overwrites, deletes, renames, ` +
        `mkdir with files, rmtree; names with spaces, quotes, a leading dash or dot, unicode), and a forced conflict (the same new path on two nodes, 0–50 ms apart) every ${churn.conflictEveryMs} ms. ` +
        `Settled: the trees the same (sha1 of every file) and the system idle, checked every 0.5 s, given up ${churn.settleCapS} s after the writers stopped. ` +
        'Every file starts with a uid line and every append adds an id line: lost = an upload no op removed that is on no node; ' +
        'resurrected = a file path whose last op removed it, having seen every write there (through overwrites, with their appends), yet present. ' +
        `Echo: in the ${churn.echoSec} s after settling, what the system still transfers, and inotify events in the trees. Medians, each run in parentheses.`,
      '',
      ...header([
        'system', 'ops (uploads)', 'settled after writers stopped', 'differing paths', 'lost uploads', 'resurrected (on deleter / not propagated)',
        'conflict copies', `echo in ${churn.echoSec} s: transfers / fs events`, 'transfers counted as', 'CPU-s (churn + settling)',
      ]),
      ...withChurn.map((r) => tr([
        r.name,
        `${each(r, (c) => c.ops)} (${each(r, (c) => c.uploads)})`,
        `${each(r, (c) => c.settleS, 1)} s`,
        each(r, (c) => c.differing),
        each(r, (c) => c.lost),
        `${each(r, (c) => c.resurrected)} (${each(r, (c) => c.resurrectedOnDeleter)} / ${each(r, (c) => c.resurrectedNotPropagated)})`,
        each(r, (c) => c.conflictCopies),
        `${each(r, (c) => c.echoTransfers)} / ${each(r, (c) => c.echoFsEvents)}`,
        r.transferUnit === 'MB received' ? 'pulls (ItemFinished)' : r.transferUnit,
        each(r, (c) => c.cpuS, 1),
      ]))
    )
  }
  lines.push('', ...meshAims(settings, rows), '', 'How each system was set up and driven:', '')
  for (const r of rows) lines.push(`- **${r.name}**: ${r.setup}${r.errors.length > 0 ? `. FAILED: ${r.errors.join('; ')}` : ''}`)
  for (const u of unavailable) lines.push(`- **${u.name}**: not run: ${u.why}`)
  return lines
}

/** The mesh's aims, each said met or not from this run's figures. */
function meshAims (settings: BenchSettings, rows: MeshRow[]): string[] {
  const sp = rows.find((r) => r.name === 'syncplane mesh')
  if (sp === undefined) return ['(syncplane mesh not run: no aims checked)']
  const verdict = (ok: boolean): string => (ok ? 'met' : '**NOT met**')
  const lines: string[] = ['Aims:']
  const st = rows.find((r) => r.name === 'Syncthing')
  if (st !== undefined && st.converged && sp.converged) {
    const speed = st.burstS / sp.burstS
    lines.push(`- burst ≥ 5× faster than Syncthing: ${fmt(speed)}× — ${verdict(speed >= 5)}`)
    lines.push(`- burst CPU below Syncthing's: ${fmt(sp.burstCpuS)} vs ${fmt(st.burstCpuS)} CPU-s — ${verdict(sp.burstCpuS < st.burstCpuS)}`)
    lines.push(`- memory below Syncthing's: peak RSS ${fmt(sp.peakRssMb, 0)} vs ${fmt(st.peakRssMb, 0)} MB — ${verdict(sp.peakRssMb < st.peakRssMb)} ` +
      `(PSS, shared pages counted once: ${fmt(sp.peakPssMb, 0)} vs ${fmt(st.peakPssMb, 0)} MB)`)
  } else {
    lines.push('- burst vs Syncthing: not comparable (one of them did not run or converge)')
  }
  lines.push(`- latency p50 < 150 ms: ${ms(sp.latencyP50Ms, 0)} — ${verdict(sp.latencyP50Ms < 150)}`)
  if (sp.churn.length > 0) {
    const worst = (f: (c: ChurnSample) => number): number => Math.max(...sp.churn.map(f))
    lines.push(`- churn settled within 30 s: slowest run ${fmt(worst((c) => c.settleS), 1)} s — ${verdict(worst((c) => c.settleS) <= 30)}`)
    lines.push(`- 0 lost / 0 resurrected / 0 echo: ${worst((c) => c.lost)} / ${worst((c) => c.resurrected)} / ${worst((c) => c.echoTransfers)} (worst run) — ` +
      verdict(worst((c) => c.lost) === 0 && worst((c) => c.resurrected) === 0 && worst((c) => c.echoTransfers) === 0))
  }
  if (settings.smoke) lines.push('- (SMOKE sizes: the aims are stated for the full sizes)')
  return lines
}
