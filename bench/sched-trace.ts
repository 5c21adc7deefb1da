import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fmt, waitUntil } from './common.js'

/**
 * An optional look under the control plane's p99 (BENCH_SCHED_TRACE=1): a
 * `perf sched record` over the burst, then, for each long wait of a thread
 * that answers HTTP (runnable, or woken, but not yet on a CPU), what the
 * CPUs ran meanwhile. It tells a service's own threads from everything else
 * on the machine, and from a CPU that sat idle while a woken thread waited
 * (a wake-up placed on the busy CPU, or, on a VM, a virtual CPU the host had
 * not run yet).
 */

/** Waits shorter than this are ordinary scheduling and are not attributed. */
export const LONG_WAIT_MS = 5

export interface WatchedThread { label: string; pid: number }
export interface Party { label: string; pid: number }

export interface WaitAttribution {
  label: string
  /** Waits longer than LONG_WAIT_MS. */
  waits: number
  totalMs: number
  longestMs: number
  /** CPU time, summed over every CPU, during those waits, by who had the CPU (ms). */
  cpuMs: Record<string, number>
}

export async function startSchedTrace (file: string): Promise<{ stop: () => Promise<void> }> {
  const perf = spawn('perf', ['sched', 'record', '-a', '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  perf.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => perf.on('close', resolve))
  perf.on('error', () => {})
  const started = await waitUntil(() => existsSync(file) || perf.exitCode !== null, 10_000)
  if (!started || perf.exitCode !== null) throw new Error(`perf sched record did not start (install linux-perf; run as root): ${stderr.trim()}`)
  return {
    async stop () {
      perf.kill('SIGINT')
      await exited
    },
  }
}

// An exiting task is printed as PID/-1.
const LINE = /^\s*(-?\d+)\/(-?\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s*(.*)$/
const FIELDS = new Map(['pid', 'prev_pid', 'prev_comm', 'prev_state', 'next_pid', 'next_comm'].map((name) => [name, new RegExp(`(?:^|\\s)${name}=(\\S+)`)]))
const field = (trace: string, name: string): string | undefined => FIELDS.get(name)!.exec(trace)?.[1]
const KERNEL_THREAD = /^(kworker|ksoftirqd|rcu_|migration|kthreadd|kcompactd|khugepaged|jbd2|kswapd|irq\/|cpuhp|watchdog)/

/** Who ran on one CPU from `start` to `end`: pid and comm as they were then (a fork that execs rsync changes its comm). */
interface Span { start: number; end: number; tid: number; pid: number; comm: string }

/**
 * Reads `perf script -F pid,tid,cpu,time,event,trace` a line at a time and
 * attributes the long waits of each watched main thread.
 *
 * A thread waits from its wake-up (or from being switched out still
 * runnable) until it is switched in. A wake-up of a thread that is running,
 * or still queued, changes nothing: the kernel reports those too. A CPU's
 * time is counted on every CPU, not only the one the thread ran on next:
 * the scheduler may have moved it, and either CPU could have run it.
 */
export function createWaitAttributor (watched: WatchedThread[], parties: Party[]) {
  const pidOf = new Map<number, number>()
  const running = new Map<number, { tid: number; since: number; comm: string }>()
  const onCpu = new Set<number>()
  const spans: Span[] = []
  const readySince = new Map<number, number>()
  const waits: Array<{ tid: number; from: number; to: number }> = []
  const watchedTids = new Set(watched.map((w) => w.pid))
  let first: number | undefined
  let last = 0

  const feed = (line: string): void => {
    const m = LINE.exec(line)
    if (!m) return
    const [, pid, tid, cpuField, time, event, trace] = m
    const t = Number(time) * 1000
    first ??= t
    last = t
    if (Number(tid) > 0 && Number(pid) > 0) pidOf.set(Number(tid), Number(pid))
    if (event === 'sched_waking' || event === 'sched_wakeup_new') {
      const woken = Number(field(trace!, 'pid'))
      if (!onCpu.has(woken) && !readySince.has(woken)) readySince.set(woken, t)
      return
    }
    if (event !== 'sched_switch') return
    const cpu = Number(cpuField)
    const prev = Number(field(trace!, 'prev_pid'))
    const next = Number(field(trace!, 'next_pid'))
    // The first switch on a CPU tells who ran there since the trace began.
    const since = running.get(cpu)?.since ?? first!
    spans.push({ start: since, end: t, tid: prev, pid: pidOf.get(prev) ?? prev, comm: field(trace!, 'prev_comm') ?? '' })
    onCpu.delete(prev)
    onCpu.add(next)
    running.set(cpu, { tid: next, since: t, comm: field(trace!, 'next_comm') ?? '' })
    if ((field(trace!, 'prev_state') ?? '').startsWith('R')) readySince.set(prev, t)
    else readySince.delete(prev)
    const ready = readySince.get(next)
    if (ready === undefined) return
    readySince.delete(next)
    if (watchedTids.has(next) && t - ready > LONG_WAIT_MS) waits.push({ tid: next, from: ready, to: t })
  }

  const partyOf = new Map(parties.map((p) => [p.pid, p.label]))
  const who = (s: Span, watchedPid: number): string => {
    if (s.tid === 0) return 'CPU idle'
    if (s.pid === watchedPid) return s.tid === watchedPid ? 'itself' : 'its own other threads'
    const party = partyOf.get(s.pid)
    if (party) return party
    if (s.comm === 'rsync') return 'rsync'
    if (KERNEL_THREAD.test(s.comm)) return 'kernel threads'
    return 'other'
  }

  /** Waits still open when the trace ends are left out: they have no end to measure. */
  const finish = (): WaitAttribution[] => {
    for (const [, r] of running) spans.push({ start: r.since, end: last, tid: r.tid, pid: pidOf.get(r.tid) ?? r.tid, comm: r.comm })
    running.clear()
    return watched.map((w) => {
      const mine = waits.filter((x) => x.tid === w.pid)
      const cpuMs: Record<string, number> = {}
      for (const x of mine) {
        for (const s of spans) {
          if (s.end <= x.from || s.start >= x.to) continue
          const k = who(s, w.pid)
          cpuMs[k] = (cpuMs[k] ?? 0) + Math.min(s.end, x.to) - Math.max(s.start, x.from)
        }
      }
      return {
        label: w.label,
        waits: mine.length,
        totalMs: mine.reduce((n, x) => n + x.to - x.from, 0),
        longestMs: Math.max(0, ...mine.map((x) => x.to - x.from)),
        cpuMs,
      }
    })
  }

  return { feed, finish }
}

/** The attribution of a whole trace held in a string (tests). */
export function attributeWaits (script: string, watched: WatchedThread[], parties: Party[]): WaitAttribution[] {
  const attributor = createWaitAttributor(watched, parties)
  for (const line of script.split('\n')) attributor.feed(line)
  return attributor.finish()
}

/** Streams `perf script` over a recorded trace: a burst's trace runs to hundreds of megabytes of text. */
export async function readSchedTrace (file: string, watched: WatchedThread[], parties: Party[]): Promise<WaitAttribution[]> {
  const attributor = createWaitAttributor(watched, parties)
  const script = spawn('perf', ['script', '-i', file, '-F', 'pid,tid,cpu,time,event,trace'], { stdio: ['ignore', 'pipe', 'ignore'] })
  const exited = new Promise<number | null>((resolve) => script.on('close', resolve))
  for await (const line of createInterface({ input: script.stdout })) attributor.feed(line)
  if ((await exited) !== 0) throw new Error(`perf script failed on ${file}`)
  return attributor.finish()
}

export function schedTable (rows: WaitAttribution[], runs: number): string[] {
  const labels = [...new Set(rows.map((r) => r.label))]
  const sum = (xs: WaitAttribution[]) => {
    const cpuMs: Record<string, number> = {}
    for (const r of xs) for (const [k, v] of Object.entries(r.cpuMs)) cpuMs[k] = (cpuMs[k] ?? 0) + v
    return { waits: xs.reduce((n, r) => n + r.waits, 0), totalMs: xs.reduce((n, r) => n + r.totalMs, 0), longestMs: Math.max(...xs.map((r) => r.longestMs)), cpuMs }
  }
  return [
    `Scheduler trace over the burst (perf sched, ${runs} run(s)): the waits of more than ${LONG_WAIT_MS} ms for a CPU, and who had the CPUs meanwhile (share of all their time):`,
    '',
    '| thread | waits | waited in all | longest | the CPUs meanwhile |',
    '|---|---|---|---|---|',
    ...labels.map((label) => {
      const s = sum(rows.filter((r) => r.label === label))
      const all = Object.values(s.cpuMs).reduce((a, b) => a + b, 0)
      const shares = Object.entries(s.cpuMs).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt((100 * v) / all, 0)} %`).join(', ')
      return `| ${label} | ${s.waits} | ${fmt(s.totalMs, 0)} ms | ${fmt(s.longestMs, 1)} ms | ${shares} |`
    }),
  ]
}
