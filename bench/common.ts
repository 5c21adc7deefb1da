import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The built service the benchmarks start. */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
/** As `npm start`, the Dockerfile and the systemd unit start the service: Node's flags and its environment. */
export const SERVICE_NODE_ARGS: readonly string[] = ['--max-semi-space-size=4', '--optimize-for-size', '--max-opt=1']
export const SERVICE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!
}

/** Nearest-rank percentile; an unconverged sample (Infinity) counts as the slowest. */
export const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

export const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : '∞')

export async function waitUntil (probe: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const ends = Date.now() + timeoutMs
  while (Date.now() < ends) {
    if (await probe()) return true
    await sleep(intervalMs)
  }
  return false
}

/**
 * `files` files of `size` bytes spread over `dirs` directories named d0…,
 * written `chunk` (1,000) at a time; `existingDirs` when the directories are
 * already there (the burst: nothing but file writes between its first and
 * last).
 */
export async function writeTree (root: string, opts: { files: number; dirs: number; size: number; prefix?: string; chunk?: number; existingDirs?: boolean }): Promise<void> {
  const prefix = opts.prefix ?? 'f'
  const chunk = opts.chunk ?? 1_000
  if (opts.existingDirs !== true) for (let d = 0; d < opts.dirs; d++) await mkdir(path.join(root, `d${d}`), { recursive: true })
  for (let i = 0; i < opts.files; i += chunk) {
    await Promise.all(Array.from({ length: Math.min(chunk, opts.files - i) }, (_, k) =>
      writeFile(path.join(root, `d${(i + k) % opts.dirs}`, `${prefix}${i + k}`), Buffer.alloc(opts.size, (i + k) % 251))))
  }
}

/**
 * CPU time of a process's main thread, and the time it waited, runnable, for
 * a CPU (/proc/PID/task/PID/schedstat), in ms: tells a service's own work
 * from what the scheduler kept it waiting.
 */
export function mainThreadTimes (pid: number | undefined): { runMs: number; waitMs: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number)
    return { runMs: run! / 1e6, waitMs: wait! / 1e6 }
  } catch {
    return { runMs: NaN, waitMs: NaN }
  }
}
