import { spawn, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fmt, waitUntil } from './common.js'

/**
 * An optional look under the control plane's p99 (BENCH_SCHED_TRACE=1): a
 * `perf sched record` over the burst, then, for each long wait of a thread
 * that answers HTTP (runnable, or woken, but not yet on a CPU), what the
 * CPUs ran meanwhile. It tells a service's own threads from everything else
 * on the machine, and from a CPU that sat idle while a woken thread waited
 * for it (on a VM, most likely a virtual CPU the host had not run yet).
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

const LINE = /^\s*(\d+)\/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(\w+):\s*(.*)$/
const FIELDS = new Map(['pid', 'comm', 'prev_pid', 'prev_comm', 'prev_state', 'next_pid', 'next_comm'].map((name) => [name, new RegExp(`(?:^|\\s)${name}=(\\S+)`)]))
const field = (trace: string, name: string): string | undefined => FIELDS.get(name)!.exec(trace)?.[1]
const KERNEL_THREAD = /^(kworker|ksoftirqd|rcu_|migration|kthreadd|kcompactd|khugepaged|jbd2|kswapd|irq\/|cpuhp|watchdog)/

/**
 * Parses `perf script -F pid,tid,cpu,time,event,trace` and attributes the
 * long waits of each watched main thread. Pure, so that it can be tested on
 * a hand-written trace.
 */
export function attributeWaits (script: string, watched: WatchedThread[], parties: Party[]): WaitAttribution[] {
  const pidOf = new Map<number, number>()
  const commOf = new Map<number, string>()
  const running = new Map<number, { tid: number; since: number }>()
  const spans = new Map<number, Array<{ start: number; end: number; tid: number }>>()
  const readySince = new Map<number, number>()
  const waits: Array<{ tid: number; from: number; to: number }> = []
  const watchedTids = new Set(watched.map((w) => w.pid))

  for (const line of script.split('\n')) {
    const m = LINE.exec(line)
    if (!m) continue
    const [, pid, tid, cpu, time, event, trace] = m
    const t = Number(time) * 1000
    pidOf.set(Number(tid), Number(pid))
    if (event === 'sched_waking' || event === 'sched_wakeup_new') {
      const woken = Number(field(trace!, 'pid'))
      commOf.set(woken, field(trace!, 'comm') ?? '')
      if (!readySince.has(woken)) readySince.set(woken, t)
    } else if (event === 'sched_switch') {
      const s = { cpu: Number(cpu), t, prevPid: Number(field(trace!, 'prev_pid')), prevState: field(trace!, 'prev_state') ?? '', nextPid: Number(field(trace!, 'next_pid')) }
      commOf.set(s.prevPid, field(trace!, 'prev_comm') ?? '')
      commOf.set(s.nextPid, field(trace!, 'next_comm') ?? '')
      const current = running.get(s.cpu)
      if (current) {
        const list = spans.get(s.cpu) ?? []
        list.push({ start: current.since, end: t, tid: current.tid })
        spans.set(s.cpu, list)
      }
      running.set(s.cpu, { tid: s.nextPid, since: t })
      // Preempted while runnable: it waits from now.
      if (s.prevState.startsWith('R') && !readySince.has(s.prevPid)) readySince.set(s.prevPid, t)
      const ready = readySince.get(s.nextPid)
      if (ready !== undefined) {
        readySince.delete(s.nextPid)
        if (watchedTids.has(s.nextPid) && t - ready > LONG_WAIT_MS) waits.push({ tid: s.nextPid, from: ready, to: t })
      }
    }
  }

  const partyOf = new Map(parties.map((p) => [p.pid, p.label]))
  const who = (tid: number, watchedPid: number): string => {
    if (tid === 0) return 'CPU idle'
    const pid = pidOf.get(tid) ?? tid
    if (pid === watchedPid) return tid === watchedPid ? 'itself' : 'its own other threads'
    const party = partyOf.get(pid)
    if (party) return party
    const comm = commOf.get(tid) ?? ''
    if (comm === 'rsync') return 'rsync'
    if (KERNEL_THREAD.test(comm)) return 'kernel threads'
    return 'other'
  }

  return watched.map((w) => {
    const mine = waits.filter((x) => x.tid === w.pid)
    const cpuMs: Record<string, number> = {}
    for (const x of mine) {
      for (const list of spans.values()) {
        for (const s of list) {
          if (s.end <= x.from || s.start >= x.to) continue
          const k = who(s.tid, w.pid)
          cpuMs[k] = (cpuMs[k] ?? 0) + Math.min(s.end, x.to) - Math.max(s.start, x.from)
        }
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

export function readSchedTrace (file: string, watched: WatchedThread[], parties: Party[]): WaitAttribution[] {
  const script = execFileSync('perf', ['script', '-i', file, '-F', 'pid,tid,cpu,time,event,trace'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString()
  return attributeWaits(script, watched, parties)
}

/** Who had the CPUs while an HTTP thread waited more than LONG_WAIT_MS for one, summed over the traced runs. */
export function schedTable (rows: WaitAttribution[], runs: number): string[] {
  const labels = [...new Set(rows.map((r) => r.label))]
  const sum = (xs: WaitAttribution[]) => {
    const cpuMs: Record<string, number> = {}
    for (const r of xs) for (const [k, v] of Object.entries(r.cpuMs)) cpuMs[k] = (cpuMs[k] ?? 0) + v
    return { waits: xs.reduce((n, r) => n + r.waits, 0), totalMs: xs.reduce((n, r) => n + r.totalMs, 0), longestMs: Math.max(...xs.map((r) => r.longestMs)), cpuMs }
  }
  return [
    `Scheduler trace over the burst (perf sched, ${runs} run(s)): the waits of more than ${LONG_WAIT_MS} ms for a CPU, and who had both CPUs meanwhile (share of their time):`,
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
