import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, readFileSync } from 'node:fs'
import { chmod, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { RsyncDaemon } from '../test/helpers/rsync-daemon.js'
import { CLI, SERVICE_ENV, SERVICE_NODE_ARGS } from './common.js'
import type { BenchSettings } from './settings.js'

/** One replicator under test, running against the shared daemon. */
export interface System {
  name: string
  /** Where the replica of `source` lands inside the daemon's module directory. */
  replicaOf (moduleDir: string): string
  /** Launches it; unless told not to, waits until it says it is ready (those that can say). */
  start (opts?: { waitReady?: boolean }): Promise<void>
  /** Stops it and returns the CPU seconds it and every child it reaped used. */
  stop (): Promise<number>
  /** A rough RSS sample of the main process, in bytes. */
  rss (): number
  /** The HTTP API, for those that have one. */
  apiUrl?: string
  /** The pid of the service itself (under the bash wrapper), for those that have one. */
  servicePid?: () => number | undefined
}

export interface SystemContext {
  root: string
  source: string
  daemon: RsyncDaemon
  passwordFile: string
  /** An rsync that logs each start to a file, so every system's runs are counted alike. */
  rsync: string
  /** How syncplane is started (BENCH_NODE_ARGS, BENCH_SYNCPLANE_CONFIG) and where every system's output goes (BENCH_SERVICE_LOG). */
  service: BenchSettings['service']
}

/** A system in the comparison, by name. */
export interface Contender {
  name: string
  make: (ctx: SystemContext) => System
  /** The seed's loop: shorter timeouts, and not run at the sustained rate (it cannot keep up). */
  seed: boolean
  /** Run on the scale workload: lsyncd at delay = 1 starts the same way as at delay = 0 and is not repeated. */
  scale: boolean
}

const CONTENDERS: readonly Contender[] = [
  { name: 'syncplane', make: (ctx) => syncplaneSystem(ctx), seed: false, scale: true },
  { name: 'lsyncd delay=1', make: (ctx) => lsyncdSystem(ctx, 1), seed: false, scale: false },
  { name: 'lsyncd delay=0', make: (ctx) => lsyncdSystem(ctx, 0), seed: false, scale: true },
  { name: 'seed loop', make: seedSystem, seed: true, scale: true },
]

/** The systems to compare, in the tables' order; `names` (BENCH_SYSTEMS) keeps only those. */
export function contenders (names?: ReadonlySet<string>): Contender[] {
  return CONTENDERS.filter((c) => names === undefined || names.has(c.name))
}

export async function makeCountingRsync (root: string): Promise<{ binary: string; logFile: string }> {
  const binary = path.join(root, 'rsync-counting')
  const logFile = path.join(root, 'rsync-runs.log')
  await writeFile(binary, `#!/bin/sh\necho run >> '${logFile}'\nexec rsync "$@"\n`)
  await chmod(binary, 0o755)
  return { binary, logFile }
}

/**
 * Runs `argv` under bash so that, when stopped, bash prints `times`: the CPU
 * of the system plus every child it waited for (rsync runs included).
 */
function launch (argv: string[], outputLog: string | undefined, env: Readonly<Record<string, string>> = {}): { child: ChildProcess; stop: () => Promise<number> } {
  const script = 'trap \'kill -TERM $pid 2>/dev/null; wait $pid; times; exit 0\' TERM; "$@" & pid=$!; wait $pid; times'
  const child = spawn('bash', ['-c', script, 'bench', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<void>((resolve) => child.on('close', () => {
    if (outputLog !== undefined) appendFileSync(outputLog, out)
    resolve()
  }))
  return {
    child,
    async stop () {
      child.kill('SIGTERM')
      const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch {} }, 15_000)
      await exited
      clearTimeout(timer)
      // `times` prints the shell's line, then its children's: "0m1.234s 0m0.567s".
      const lines = out.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l))
      const last = lines.at(-1)
      if (last === undefined) return NaN
      return last.split(' ').map((t) => { const m = /^(\d+)m([\d.]+)s$/.exec(t)!; return Number(m[1]) * 60 + Number(m[2]) }).reduce((a, b) => a + b, 0)
    },
  }
}

function childrenOf (pid: number | undefined): number[] {
  if (pid === undefined) return []
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** RSS of the process tree under the bash wrapper (the system itself and any helpers), in bytes. */
function rssOf (pid: number | undefined): number {
  if (pid === undefined) return 0
  let total = 0
  const visit = (p: number, isWrapper: boolean): void => {
    try {
      if (!isWrapper) total += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024
      for (const child of childrenOf(p)) visit(child, false)
    } catch {
      // Gone meanwhile.
    }
  }
  visit(pid, true)
  return total
}

/** syncplane with its default config; `database` reuses a prepared one. */
export function syncplaneSystem (ctx: SystemContext, opts: { database?: string } = {}): System {
  let handle: ReturnType<typeof launch> | undefined
  const port = 18_000 + Math.floor(Math.random() * 10_000)
  return {
    name: 'syncplane',
    apiUrl: `http://127.0.0.1:${port}`,
    replicaOf: (moduleDir) => path.join(moduleDir, 'syncplane'),
    async start ({ waitReady = true } = {}) {
      const config = path.join(ctx.root, 'syncplane.yaml')
      await writeFile(config, JSON.stringify({
        source: ctx.source,
        database: opts.database ?? path.join(ctx.root, `syncplane-${Date.now()}.db`),
        logLevel: 'warn',
        api: { port },
        rsync: { binary: ctx.rsync },
        targets: [{ name: 'bench', url: `${ctx.daemon.url}syncplane/`, passwordFile: ctx.passwordFile }],
        // A non-default setting to measure (BENCH_SYNCPLANE_CONFIG).
        ...ctx.service.config,
      }))
      handle = launch([process.execPath, ...SERVICE_NODE_ARGS, ...ctx.service.nodeArgs, CLI, 'serve', '--config', config], ctx.service.log, SERVICE_ENV)
      while (waitReady) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) break
        } catch {}
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    stop: () => handle!.stop(),
    rss: () => rssOf(handle?.child.pid),
    servicePid: () => childrenOf(handle?.child.pid)[0],
  }
}

export function lsyncdSystem (ctx: SystemContext, delay: number): System {
  let handle: ReturnType<typeof launch> | undefined
  const sub = `lsyncd-delay${delay}`
  return {
    name: `lsyncd delay=${delay}`,
    replicaOf: (moduleDir) => path.join(moduleDir, sub),
    async start () {
      const config = path.join(ctx.root, `${sub}.lua`)
      await writeFile(config, `settings { nodaemon = true, insist = true, statusInterval = 60 }
sync {
  default.rsync,
  source = "${ctx.source}/",
  target = "${ctx.daemon.user}@127.0.0.1::${ctx.daemon.module}/${sub}/",
  delay = ${delay},
  rsync = { binary = "${ctx.rsync}", password_file = "${ctx.passwordFile}", _extra = { "--port=${ctx.daemon.port}" } },
}
`)
      handle = launch(['lsyncd', config], ctx.service.log)
    },
    stop: () => handle!.stop(),
    rss: () => rssOf(handle?.child.pid),
  }
}

/** The seed's loop, as published: inotifywait piped into one rsync per event. */
export function seedSystem (ctx: SystemContext): System {
  let handle: ReturnType<typeof launch> | undefined
  return {
    name: 'seed loop',
    // rsync -R with absolute paths recreates the source's full path under the module.
    replicaOf: (moduleDir) => path.join(moduleDir, 'seed', ctx.source),
    async start () {
      const script = path.join(ctx.root, 'inotify-rsync.sh')
      await writeFile(script, `#!/bin/bash
set -ex
monitor_path='${ctx.source}/'
inotifywait -mrq --format '%w%f' -e create -e delete -e moved_to -e close_write $monitor_path | while read line
do
dir_name=\`dirname $line\`
if [ -f $line ];then
${ctx.rsync} -azrR $line --delete --port=${ctx.daemon.port} --password-file=${ctx.passwordFile} ${ctx.daemon.user}@127.0.0.1::${ctx.daemon.module}/seed/
else
${ctx.rsync} -azrR $dir_name --delete --port=${ctx.daemon.port} --password-file=${ctx.passwordFile} ${ctx.daemon.user}@127.0.0.1::${ctx.daemon.module}/seed/
fi
done
`)
      await chmod(script, 0o755)
      handle = launch(['bash', script], ctx.service.log)
    },
    stop: () => handle!.stop(),
    rss: () => rssOf(handle?.child.pid),
  }
}
