import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { mainThreadTimes, sleep, waitUntil } from '../common.js'
import type { Harness } from '../harness.js'
import { readSchedTrace, startSchedTrace, type WaitAttribution } from '../sched-trace.js'
import { syncplaneSystem } from '../systems.js'

/**
 * Workload 5, first half: during syncplane's burst, GET /healthz and
 * GET /v1/status at `probeRate` requests/s each from a separate process
 * (bench/http-probe.ts), beside an HTTP server that does nothing else
 * (bench/idle-server.ts): the machine's floor for a probe.
 */

export interface ThreadTimes { runMs: number; waitMs: number }
export interface LoopDelay { p50Ms: number; p99Ms: number; maxMs: number }

export interface ControlSample {
  /** Latencies in ms, by endpoint. */
  healthz: number[]
  status: number[]
  idle: number[]
  errors: number
  burstS: number
  loop: LoopDelay
  service: ThreadTimes
  idleServer: ThreadTimes
  sched?: WaitAttribution[] | undefined
}

const program = (name: string): string => fileURLToPath(new URL(`../${name}`, import.meta.url))

/** The noisiest figures of all (a p99 of a few hundred requests): `runs` runs, reported as medians with each run's figure. */
export async function runControlPlane (h: Harness): Promise<ControlSample[]> {
  const samples: ControlSample[] = []
  for (let run = 1; run <= h.settings.runs; run++) {
    process.stderr.write(`control plane during the burst, run ${run}/${h.settings.runs}\n`)
    samples.push(await controlPlaneDuringBurst(h))
  }
  return samples
}

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
async function controlPlaneDuringBurst (h: Harness): Promise<ControlSample> {
  const { ctx, source } = await h.freshContext('control')
  const system = syncplaneSystem(ctx)
  const replica = await h.startReady(system, source)
  const apiUrl = system.apiUrl!
  const idle = spawn(process.execPath, ['--import', 'tsx', program('idle-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  let probe: ReturnType<typeof spawn> | undefined
  const traceFile = path.join(ctx.root, 'sched.data')
  let trace: Awaited<ReturnType<typeof startSchedTrace>> | undefined
  try {
    const idlePort = await new Promise<string>((resolve) => idle.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())))
    const urls = [`${apiUrl}/healthz`, `${apiUrl}/v1/status`, `http://127.0.0.1:${idlePort}/`] as const
    const prober = spawn(process.execPath, ['--import', 'tsx', program('http-probe.ts'), String(h.settings.control.probeRate), ...urls], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    probe = prober
    let out = ''
    prober.stdout.on('data', (d: Buffer) => { out += d.toString() })
    await new Promise<void>((resolve) => prober.stderr.once('data', () => resolve()))
    await sleep(1_000)
    // A scrape resets the service's event-loop histogram, so the next one covers the burst alone.
    await loopDelay(apiUrl)
    const servicePid = system.servicePid!()
    const serviceBefore = mainThreadTimes(servicePid)
    const idleBefore = mainThreadTimes(idle.pid)
    trace = h.settings.schedTrace ? await startSchedTrace(traceFile) : undefined
    await h.writeBurst(source)
    const lastWrite = performance.now()
    await waitUntil(async () => (await h.countReplica(replica)) >= h.settings.burst.files, h.settings.timeoutMs, 50)
    const burstS = (performance.now() - lastWrite) / 1000
    const service = timesSince(servicePid, serviceBefore)
    const idleServer = timesSince(idle.pid, idleBefore)
    const loop = await loopDelay(apiUrl)
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
    const errors = Object.values(parsed.errors).reduce((a, b) => a + b, 0)
    return { healthz: parsed.latencies[urls[0]]!, status: parsed.latencies[urls[1]]!, idle: parsed.latencies[urls[2]]!, errors, burstS, loop, service, idleServer, sched }
  } finally {
    await trace?.stop()
    probe?.kill('SIGKILL')
    idle.kill('SIGTERM')
    await system.stop()
  }
}

/** The service's event-loop delay since the previous scrape, from its /metrics: tells its own stalls from CPU scheduling. */
async function loopDelay (apiUrl: string): Promise<LoopDelay> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text()
  const read = (name: string): number => Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000
  return { p50Ms: read('p50'), p99Ms: read('p99'), maxMs: read('max') }
}
