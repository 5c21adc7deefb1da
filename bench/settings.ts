/**
 * Every knob of the benchmark, read from the environment in this one place
 * (`readSettings`, called once by run.ts) and passed down from there.
 *
 * `npm run bench` runs the full sizes; BENCH_SMOKE=1 (CI) the same code on
 * small ones, so the benchmark cannot rot.
 */

export const SCENARIOS = ['burst', 'sustained', 'scale', 'control', 'mesh'] as const
export type Scenario = typeof SCENARIOS[number]

export interface BenchSettings {
  /** BENCH_SMOKE=1: small sizes, one run. */
  smoke: boolean
  /** BENCH_RUNS: how often the repeated workloads (burst and latency, control plane) run; medians are reported. */
  runs: number
  /** BENCH_ONLY=burst,sustained,scale,control,mesh runs a subset while working on one. */
  only: ReadonlySet<string>
  /** BENCH_SYSTEMS=syncplane,… runs only those (the rsync floor always runs); undefined: all of them. */
  systems: ReadonlySet<string> | undefined
  /** BENCH_FS=ext4 (the default as root) or tmp: where the trees go (bench/work-fs.ts). */
  fs: string | undefined
  /** BENCH_SCHED_TRACE=1 records the scheduler over each control-plane burst (perf, as root) and says who had the CPUs while an HTTP thread waited. */
  schedTrace: boolean
  /** How the syncplane process is started and what it is told. */
  service: {
    /** BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" passes flags to the syncplane process (profiling). */
    nodeArgs: readonly string[]
    /** BENCH_SYNCPLANE_CONFIG='{"watcher":{"backend":"chokidar"}}' measures a non-default setting. */
    config: Readonly<Record<string, unknown>>
    /** BENCH_SERVICE_LOG=FILE keeps what the systems print (with BENCH_NODE_ARGS=--trace-gc, say). */
    log: string | undefined
  }
  burst: { files: number; dirs: number }
  latency: { files: number; gapMs: number }
  /** How long a system may take to converge; the seed loop gets less (it never catches up with a burst). */
  timeoutMs: number
  seedTimeoutMs: number
  sustained: { rate: number; seconds: number }
  scale: { files: number; dirs: number }
  /** The second, larger scale tree (syncplane only). */
  bigScale: { files: number; dirs: number }
  control: { probeRate: number }
  jobHistory: { rows: number; timesPerQuery: number }
  /** The mesh workloads (bench/scenarios/mesh.ts): syncplane's mesh, Syncthing and Unison, each on nodes of its own. */
  mesh: {
    /** BENCH_MESH_SYSTEMS=syncplane,syncthing,unison runs only those; undefined: all of them. */
    systems: ReadonlySet<string> | undefined
    burst: { files: number; dirs: number }
    latency: { files: number; gapMs: number }
    /**
     * BENCH_MESH_CHURN_SEC (0: no churn) seconds of a writer on every node
     * (BENCH_SEED), one op per `gapMs` each, a forced conflict every
     * `conflictEveryMs`; settled within `settleCapS` or not; then `echoSec`
     * of nothing written, counting what still moves.
     */
    churn: { seconds: number; seed: number; gapMs: number; conflictEveryMs: number; settleCapS: number; echoSec: number }
    /** How long nodes may take to start, a burst to converge, a latency file to arrive. */
    timeoutMs: number
  }
}

const list = (value: string): Set<string> => new Set(value.split(','))

export function readSettings (env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const smoke = env.BENCH_SMOKE === '1'
  return {
    smoke,
    runs: Number(env.BENCH_RUNS ?? (smoke ? 1 : 3)),
    only: list(env.BENCH_ONLY ?? SCENARIOS.join(',')),
    systems: env.BENCH_SYSTEMS === undefined ? undefined : list(env.BENCH_SYSTEMS),
    fs: env.BENCH_FS || undefined,
    schedTrace: env.BENCH_SCHED_TRACE === '1',
    service: {
      nodeArgs: (env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      config: JSON.parse(env.BENCH_SYNCPLANE_CONFIG ?? '{}'),
      log: env.BENCH_SERVICE_LOG || undefined,
    },
    burst: { files: smoke ? 300 : 10_000, dirs: smoke ? 10 : 100 },
    latency: { files: smoke ? 10 : 100, gapMs: 200 },
    timeoutMs: smoke ? 60_000 : 300_000,
    seedTimeoutMs: smoke ? 30_000 : 60_000,
    sustained: { rate: smoke ? 100 : 500, seconds: smoke ? 5 : 60 },
    scale: { files: smoke ? 2_000 : 200_000, dirs: smoke ? 200 : 20_000 },
    bigScale: { files: smoke ? 5_000 : 1_000_000, dirs: smoke ? 500 : 100_000 },
    control: { probeRate: 50 },
    jobHistory: { rows: smoke ? 20_000 : 1_000_000, timesPerQuery: smoke ? 20 : 200 },
    mesh: {
      systems: env.BENCH_MESH_SYSTEMS === undefined ? undefined : list(env.BENCH_MESH_SYSTEMS),
      burst: { files: smoke ? 300 : 10_000, dirs: smoke ? 10 : 100 },
      latency: { files: smoke ? 10 : 100, gapMs: 200 },
      churn: {
        seconds: Number(env.BENCH_MESH_CHURN_SEC ?? (smoke ? 8 : 30)),
        seed: Number(env.BENCH_SEED ?? 1),
        gapMs: 20,
        conflictEveryMs: 1_000,
        settleCapS: smoke ? 60 : 120,
        echoSec: smoke ? 10 : 30,
      },
      timeoutMs: smoke ? 120_000 : 300_000,
    },
  }
}
