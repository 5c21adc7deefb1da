import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * CPU and memory of every process of one system under test, the short-lived
 * ones included (rsync runs, unison runs, rsync daemons' per-connection
 * children): a cgroup of its own (v1 cpuacct or v2) where the machine lets
 * us make one (root), otherwise the process trees of the pids it was told
 * about (/proc: a process's CPU plus what it reaped from its children).
 *
 * Processes join at exec: `wrap` prefixes a command with a shell that moves
 * itself into the cgroup first, so everything it forks later is counted.
 * `adopt` moves a process already running (its later children follow).
 *
 * On cgroup v1 the system also gets a `cpu` cgroup of its own (the default
 * 1024 shares): against whatever else runs on the machine it weighs as one
 * session does under autogroup scheduling, however many processes and
 * sessions it runs, so every system is treated alike; inside it, nice
 * values (syncplane's rsync and worker threads) still order its own tasks.
 */
export interface Account {
  /** How it counts: 'cgroup v1', 'cgroup v2' or '/proc trees'. */
  method: string
  /** The cgroup directories the system's processes are in (none without cgroups). */
  cgroups: readonly string[]
  /** `argv` run inside the account. */
  wrap (argv: readonly string[]): string[]
  /** A process started some other way joins (its children from now on too). */
  adopt (pid: number): void
  /** CPU seconds (user + system) of every process counted so far, the exited ones included. */
  cpuS (): number
  /** The pids in the account now. */
  pids (): number[]
  /** RSS summed over those processes now, in bytes. */
  rss (): number
  /** VmHWM (each process's own peak RSS) summed over those processes now, in bytes. */
  hwm (): number
  /**
   * Samples the summed RSS and PSS every `ms` until `stop()`, which returns
   * the largest sums seen. PSS divides each shared page among the processes
   * mapping it: three nodes running one binary count its pages once, not
   * three times as summed RSS does.
   */
  sampleMemory (ms?: number): { stop: () => { rss: number, pss: number } }
  /** Removes the cgroup once its processes are gone (an exiting process may linger in it a moment). */
  close (): Promise<void>
}

const V1 = '/sys/fs/cgroup/cpuacct'
const V2 = '/sys/fs/cgroup'
const CLK_TCK = 100

const readNumber = (file: string): number => Number(readFileSync(file, 'utf8').trim())

function statusKb (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
  } catch {
    return 0
  }
}

/** A process's proportional set size in bytes (0 once it is gone). */
function pssOf (pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024
  } catch {
    return 0
  }
}

const V1_CPU = '/sys/fs/cgroup/cpu'

/** A new, empty cgroup named `name` (on v1, one for cpuacct and one for cpu), or undefined where none can be made. */
function makeCgroup (name: string): { dir: string, dirs: string[], method: string, usageS: () => number } | undefined {
  const tryMake = (dir: string): boolean => {
    try {
      mkdirSync(dir)
      return true
    } catch {
      return false
    }
  }
  if (existsSync(path.join(V1, 'cpuacct.usage')) && tryMake(path.join(V1, name))) {
    const dir = path.join(V1, name)
    const cpu = path.join(V1_CPU, name)
    const dirs = existsSync(path.join(V1_CPU, 'cpu.shares')) && tryMake(cpu) ? [dir, cpu] : [dir]
    return { dir, dirs, method: 'cgroup v1', usageS: () => readNumber(path.join(dir, 'cpuacct.usage')) / 1e9 }
  }
  if (existsSync(path.join(V2, 'cgroup.controllers')) && tryMake(path.join(V2, name))) {
    const dir = path.join(V2, name)
    return {
      dir,
      dirs: [dir],
      method: 'cgroup v2',
      usageS: () => Number(/usage_usec (\d+)/.exec(readFileSync(path.join(dir, 'cpu.stat'), 'utf8'))?.[1] ?? NaN) / 1e6,
    }
  }
  return undefined
}

/** Children of every process, from /proc/PID/stat. */
function processTable (): Map<number, number[]> {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)])
    } catch {}
  }
  return children
}

/** utime + stime + cutime + cstime of one process, in seconds. */
function procCpuS (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK
  } catch {
    return 0
  }
}

export function createAccount (label: string): Account {
  const name = `syncplane-bench-${process.pid}-${label.replace(/\W+/g, '-')}-${Date.now()}`
  const cgroup = makeCgroup(name)
  const roots = new Set<number>()

  const pids = (): number[] => {
    if (cgroup !== undefined) {
      try {
        return readFileSync(path.join(cgroup.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
      } catch {
        return []
      }
    }
    const children = processTable()
    const all: number[] = []
    const visit = (p: number): void => {
      all.push(p)
      for (const c of children.get(p) ?? []) visit(c)
    }
    for (const r of roots) if (existsSync(`/proc/${r}`)) visit(r)
    return all
  }

  const rss = (): number => pids().reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0)

  return {
    method: cgroup?.method ?? '/proc trees',
    cgroups: cgroup?.dirs ?? [],
    wrap (argv) {
      if (cgroup === undefined) return [...argv]
      const procs = cgroup.dirs.map((d) => `'${path.join(d, 'cgroup.procs')}'`).join(' ')
      return ['sh', '-c', `for f in ${procs}; do echo $$ > "$f" || exit 125; done; exec "$@"`, 'sh', ...argv]
    },
    adopt (pid) {
      roots.add(pid)
      for (const d of cgroup?.dirs ?? []) writeFileSync(path.join(d, 'cgroup.procs'), `${pid}\n`)
    },
    cpuS () {
      if (cgroup !== undefined) return cgroup.usageS()
      return pids().reduce((sum, p) => sum + procCpuS(p), 0)
    },
    pids,
    rss,
    hwm: () => pids().reduce((sum, p) => sum + statusKb(p, 'VmHWM'), 0),
    sampleMemory (ms = 250) {
      const peak = { rss: 0, pss: 0 }
      const sample = (): void => {
        const now = pids()
        peak.rss = Math.max(peak.rss, now.reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0))
        peak.pss = Math.max(peak.pss, now.reduce((sum, p) => sum + pssOf(p), 0))
      }
      sample()
      const timer = setInterval(sample, ms)
      return {
        stop () {
          clearInterval(timer)
          sample()
          return { ...peak }
        },
      }
    },
    async close () {
      for (const d of cgroup?.dirs ?? []) {
        for (let attempt = 0; ; attempt++) {
          try {
            rmdirSync(d)
            break
          } catch (err) {
            if (attempt >= 50) {
              process.stderr.write(`bench: cgroup ${d} not removed: ${(err as Error).message}\n`)
              break
            }
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
      }
    },
  }
}
