import { median, pct } from '../common.js'
import type { ChurnVerdict } from '../mesh-oracle.js'
import type { MeshContender } from '../mesh-systems.js'

/** What the mesh workloads measure (mesh.ts), per run and summed up per system. */

export interface PerfSample {
  ready: boolean
  startS: number
  burstS: number
  burstWriteS: number
  converged: boolean
  /** The trees hold the same bytes at the end (sha1 of every file). */
  identical: boolean
  burstCpuS: number
  /** Peak of the summed RSS of the system's processes over the burst (sampled every 250 ms). */
  peakRssMb: number
  /** Peak of the summed PSS (shared pages divided among their processes), sampled with the RSS. */
  peakPssMb: number
  /** Sum of each process's VmHWM at convergence (processes alive then). */
  hwmMb: number
  transfers: Record<string, number>
  /** On node B, and on every node but A; Infinity for a file that never arrived. */
  latencies: number[]
  latenciesAll: number[]
  latencyUnobserved: number
  latencyCpuS: number
}

export interface ChurnSample extends ChurnVerdict {
  skipped: number
  /** From the writers' end until the trees were the same and the system idle; Infinity when not within the cap. */
  settleS: number
  cpuS: number
  transfers: Record<string, number>
  echoTransfers: number
  echoFsEvents: number
}

export interface MeshSample { perf?: PerfSample, churn?: ChurnSample, error?: string }

export interface MeshRow {
  name: string
  nodes: number
  setup: string
  transferUnit: string
  burstS: number
  /** No run got as far as the burst (see errors). */
  failed: boolean
  /** At least one run converged. */
  converged: boolean
  unconverged: number
  identical: boolean
  burstWriteS: number
  burstCpuS: number
  peakRssMb: number
  peakPssMb: number
  hwmMb: number
  transfers: Record<string, number>
  latencyP50Ms: number
  latencyP99Ms: number
  latencyAllP99Ms: number
  latencyMissing: number
  latencyCpuS: number
  churn: ChurnSample[]
  errors: string[]
}

export interface MeshResult {
  raw: Record<string, MeshSample[]>
  rows: MeshRow[]
  /** Systems that could not run here, and why. */
  unavailable: Array<{ name: string, why: string }>
}

export function summarize (c: MeshContender, setup: { setup: string, unit: string } | undefined, samples: MeshSample[]): MeshRow {
  const perf = samples.flatMap((s) => (s.perf === undefined ? [] : [s.perf]))
  const med = (f: (p: PerfSample) => number): number => median(perf.map(f))
  const lat = perf.flatMap((p) => p.latencies)
  const latAll = perf.flatMap((p) => p.latenciesAll)
  const keys = [...new Set(perf.flatMap((p) => Object.keys(p.transfers)))]
  return {
    name: c.name,
    nodes: c.nodes,
    setup: setup?.setup ?? '(did not start)',
    transferUnit: setup?.unit ?? '',
    failed: perf.length === 0,
    // Over the runs that converged; `unconverged` says how many did not.
    burstS: med((p) => p.burstS),
    converged: perf.some((p) => p.converged),
    unconverged: perf.filter((p) => !p.converged).length,
    identical: perf.length > 0 && perf.every((p) => p.identical),
    burstWriteS: med((p) => p.burstWriteS),
    burstCpuS: med((p) => p.burstCpuS),
    peakRssMb: med((p) => p.peakRssMb),
    peakPssMb: med((p) => p.peakPssMb),
    hwmMb: med((p) => p.hwmMb),
    transfers: Object.fromEntries(keys.map((k) => [k, med((p) => p.transfers[k] ?? NaN)])),
    latencyP50Ms: pct(lat, 50),
    latencyP99Ms: pct(lat, 99),
    latencyAllP99Ms: pct(latAll, 99),
    latencyMissing: latAll.filter((x) => x === Infinity).length,
    latencyCpuS: med((p) => p.latencyCpuS),
    churn: samples.flatMap((s) => (s.churn === undefined ? [] : [s.churn])),
    errors: samples.flatMap((s) => (s.error === undefined ? [] : [s.error])),
  }
}
