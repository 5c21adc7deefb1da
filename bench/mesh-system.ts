import { execFileSync } from 'node:child_process'
import { spawnManaged, type ManagedProcess } from '../test/helpers/managed-process.js'
import type { Account } from './accounting.js'

/**
 * The systems of the mesh workloads, every node on this machine, each node
 * with its own tree: syncplane's mesh (a node = the built service plus its
 * rsync daemon with auth), Syncthing (Debian's 1.19) and Unison (Debian's
 * 2.52, one pair). Set up as /work/shared/research/anchors-mesh-measured.md
 * describes, so the figures can be held against the anchors measured there.
 * Every process a system runs is counted in an Account of its own.
 */
export interface MeshSystem {
  name: string
  /** How it was set up and driven, for the report. */
  setup: string
  /** The node trees; the workloads write on the first (node A). */
  roots: string[]
  account: Account
  /** Starts every node and waits until they are connected. */
  start (): Promise<void>
  /** Whether every node says it has nothing left to do (the trees are compared separately). */
  idle (): Promise<boolean>
  /** Cumulative transfer counters since start; `main` is the one the echo window counts. */
  transfers (): Promise<{ main: number, detail: Record<string, number> }>
  /** What the main counter counts. */
  transferUnit: string
  /** A path inside a tree that is the system's own (never the user's): left out of every comparison. */
  internal (rel: string): boolean
  /** Stops every process it started. */
  stop (): Promise<void>
}

/** Whether `command` is on the PATH. */
export const has = (command: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Temporary files Syncthing and Unison write into the tree (a leading dot). */
export const leadingDotTemp = (rel: string): boolean => /(^|\/)\.(syncthing\.|unison\.|~)/s.test(rel)

/** Stops the processes of a system, each given 15 s to go. */
export async function stopAll (procs: ReadonlyArray<ManagedProcess | undefined>): Promise<void> {
  await Promise.all(procs.map((p) => p?.stop({ timeoutMs: 15_000 })))
}

/** A process inside the account (it and everything it forks is counted). */
export async function spawnCounted (account: Account, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv, log?: string | undefined } = {}): Promise<ManagedProcess> {
  const full = account.wrap(argv)
  const proc = await spawnManaged(full[0]!, full.slice(1), { env: opts.env ?? process.env })
  try {
    account.adopt(proc.pid)
  } catch {}
  return proc
}

/** The first line of `command args`'s output, for the report. */
export function version (command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim()
  } catch {
    return '?'
  }
}
