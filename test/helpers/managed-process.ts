import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Tail of everything the process wrote to stdout and stderr. */
  output(): string;
  isRunning(): boolean;
  /** Sends `signal` to the process and to every process it forked. */
  signalTree(signal: NodeJS.Signals): void;
  /** SIGTERM the tree, escalate to SIGKILL after `timeoutMs`; idempotent. */
  stop(opts?: { timeoutMs?: number }): Promise<ExitInfo>;
}

const OUTPUT_LIMIT = 64 * 1024
/** How long output may still drain after the process exited, before its pipes are let go. */
const EXIT_DRAIN_MS = 2_000

/**
 * Spawns a long-running server process for a test and ties its lifetime to
 * the test process.
 *
 * - stdin is /dev/null, never a pipe: Node pipes are socketpairs, and
 *   `rsync --daemon` treats a socket on stdin as "started by inetd" and
 *   would serve one connection on it instead of listening.
 * - The child and its pipes are unref'd so a test that forgets stop() does
 *   not keep the test process alive forever; the 'exit' hook then kills it.
 *   (Ctrl-C is covered too: the child stays in our process group.)
 * - Servers fork one process per connection, so signals go to the whole
 *   tree (found through /proc; on systems without /proc only the main
 *   process is signalled).
 */
export async function spawnManaged (
  command: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}
): Promise<ManagedProcess> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  })

  let output = ''
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)

  // Resolve on 'close' rather than 'exit' so that all output is collected.
  let running = true
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (error) => {
      append(Buffer.from(`spawn ${command} failed: ${error.message}\n`))
      running = false
      resolve({ code: null, signal: null })
    })
    let drained: NodeJS.Timeout | undefined
    child.once('close', (code, signal) => {
      clearTimeout(drained)
      running = false
      resolve({ code, signal })
    })
    // A descendant that outlived it (an rsync daemon's connection child forked just as the daemon was killed -9)
    // keeps the pipes open, and 'close' would wait for that process: after the exit, the output has a moment to
    // drain, then the process counts as gone.
    child.once('exit', (code, signal) => {
      drained = setTimeout(() => {
        running = false
        child.stdout?.destroy()
        child.stderr?.destroy()
        resolve({ code, signal })
      }, EXIT_DRAIN_MS)
    })
  })

  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`spawn ${command}: no pid`)

  const killOnExit = (): void => {
    for (const p of [pid, ...descendantPids(pid)]) trySignal(p, 'SIGKILL')
  }
  process.on('exit', killOnExit)
  void exited.then(() => process.off('exit', killOnExit))

  child.unref()
  unrefStream(child.stdout)
  unrefStream(child.stderr)

  const signalTree = (signal: NodeJS.Signals): void => {
    if (!running) return
    // Collect descendants first: once the parent dies they are re-parented
    // and can no longer be found.
    for (const p of [pid, ...descendantPids(pid)]) trySignal(p, signal)
  }

  return {
    child,
    pid,
    exited,
    output: () => output,
    isRunning: () => running,
    signalTree,
    async stop (stopOpts = {}): Promise<ExitInfo> {
      const deadline = Date.now() + (stopOpts.timeoutMs ?? 5_000)
      // Remembered for the SIGKILL fallback: orphans cannot be found later.
      let tree: number[] = [pid]
      if (running) {
        // Resume first: a paused (SIGSTOPped) process neither acts on
        // SIGTERM nor reaps its children.
        signalTree('SIGCONT')
        // Then terminate leaves first, so that every process is reaped by
        // its still-running parent. Orphans are re-parented to pid 1, which
        // in containers often never reaps them (zombies pile up in CI).
        const levels = descendantLevels(pid)
        tree = [pid, ...levels.flat()]
        for (const level of levels.reverse()) {
          for (const p of level) trySignal(p, 'SIGTERM')
          while (level.some(pidExists) && Date.now() < deadline) await sleep(5)
        }
        trySignal(pid, 'SIGTERM')
      }
      if (!(await settlesWithin(exited, Math.max(0, deadline - Date.now())))) {
        for (const p of new Set([...tree, ...descendantPids(pid)])) trySignal(p, 'SIGKILL')
      }
      // The child and its pipes are unref'd: without a handle of ours the loop could end before its exit is seen
      // (the test's promise left pending), as happened when a stop under load spent its whole deadline.
      const keepAlive = setInterval(() => undefined, 1_000)
      try {
        return await exited
      } finally {
        clearInterval(keepAlive)
      }
    },
  }
}

/** Processes below `rootPid` grouped by depth (children, grandchildren...). */
export function descendantLevels (rootPid: number): number[][] {
  const childrenOf = readProcessTable()
  const levels: number[][] = []
  let current = [rootPid]
  while (current.length > 0) {
    const next = current.flatMap((p) => childrenOf.get(p) ?? [])
    if (next.length > 0) levels.push(next)
    current = next
  }
  return levels
}

/** All processes below `rootPid`. */
export function descendantPids (rootPid: number): number[] {
  return descendantLevels(rootPid).flat()
}

/**
 * Maps each pid to its children by scanning /proc/<pid>/stat; empty where
 * there is no /proc (then only the main process is ever signalled).
 */
function readProcessTable (): Map<number, number[]> {
  const childrenOf = new Map<number, number[]>()
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return childrenOf
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8')
    } catch {
      continue // exited while we were scanning
    }
    // Format: "pid (comm) state ppid ..."; comm may contain spaces and ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ppid = Number(fields[1])
    const list = childrenOf.get(ppid) ?? []
    list.push(Number(name))
    childrenOf.set(ppid, list)
  }
  return childrenOf
}

function trySignal (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // Already gone (ESRCH): nothing to do.
  }
}

/** True while the pid exists, including as a not-yet-reaped zombie. */
export function pidExists (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function settlesWithin (promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function unrefStream (stream: unknown): void {
  (stream as { unref?: () => void } | null)?.unref?.()
}
