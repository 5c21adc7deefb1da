import { AssertionError } from 'node:assert'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { waitFor } from './wait-for.js'

export interface Entry {
  /** 'other' covers fifos, sockets and devices (rsync -a copies them too). */
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Files only. */
  size?: number;
  /** Files only: hex digest of the content. */
  sha256?: string;
  /** Symlinks only: the raw target, never resolved. */
  linkTarget?: string;
}

export interface TreeOptions {
  /**
   * Called with each relative path; true leaves the entry (and, for a
   * directory, everything below it) out of the snapshot.
   */
  ignore?: (rel: string) => boolean;
}

export type Snapshot = Map<string, Entry>

/**
 * Describes every entry below `root`, keyed by its relative path ('/'
 * separated, no leading './'; the root itself is not included).
 *
 * lstat is used throughout so symlinks are compared as links and a link to
 * a directory is never walked (no cycles, no escaping the tree). Names are
 * used exactly as the OS returns them, so spaces, newlines, a leading '-',
 * '*', '\', quotes and unicode all survive. (Names that are not valid UTF-8
 * cannot be represented as JS strings and are not supported.)
 *
 * Entries that vanish mid-walk are skipped rather than failing: the tree may
 * be a live rsync destination with temp files coming and going, and
 * waitForTreesEqual simply looks again.
 */
export async function snapshotTree (root: string, opts: TreeOptions = {}): Promise<Snapshot> {
  const result: Snapshot = new Map()
  const rootStat = await lstat(root)
  if (!rootStat.isDirectory()) throw new Error(`snapshotTree: ${root} is not a directory`)
  await walk(root, '', result, opts.ignore)
  return new Map([...result.entries()].sort(([a], [b]) => compare(a, b)))
}

async function walk (
  dir: string,
  relDir: string,
  out: Snapshot,
  ignore: ((rel: string) => boolean) | undefined
): Promise<void> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if (isVanished(error)) return
    throw error
  }
  for (const name of names) {
    const rel = relDir === '' ? name : `${relDir}/${name}`
    if (ignore?.(rel)) continue
    const abs = join(dir, name)
    try {
      const stat = await lstat(abs)
      if (stat.isSymbolicLink()) {
        out.set(rel, { type: 'symlink', linkTarget: await readlink(abs) })
      } else if (stat.isDirectory()) {
        out.set(rel, { type: 'dir' })
        await walk(abs, rel, out, ignore)
      } else if (stat.isFile()) {
        out.set(rel, { type: 'file', size: stat.size, sha256: await hashFile(abs) })
      } else {
        out.set(rel, { type: 'other' })
      }
    } catch (error) {
      if (isVanished(error)) {
        out.delete(rel)
        continue
      }
      throw error
    }
  }
}

/**
 * Human-readable differences of tree `b` against tree `a`, sorted by path;
 * an empty array means the trees are equal. Paths are JSON-quoted so
 * newlines and trailing spaces are visible.
 */
export async function diffTrees (a: string, b: string, opts: TreeOptions = {}): Promise<string[]> {
  const [left, right] = await Promise.all([snapshotTree(a, opts), snapshotTree(b, opts)])
  return diffSnapshots(left, right)
}

/** The comparison behind diffTrees, for snapshots taken at different times. */
export function diffSnapshots (a: Snapshot, b: Snapshot): string[] {
  const diffs: Array<[string, string]> = []
  for (const [rel, ea] of a) {
    const q = JSON.stringify(rel)
    const eb = b.get(rel)
    if (eb === undefined) {
      diffs.push([rel, `missing on b: ${q} (${ea.type})`])
    } else if (ea.type !== eb.type) {
      diffs.push([rel, `type mismatch: ${q} a=${ea.type} b=${eb.type}`])
    } else if (ea.type === 'symlink' && ea.linkTarget !== eb.linkTarget) {
      diffs.push([
        rel,
        `symlink target mismatch: ${q} a=${JSON.stringify(ea.linkTarget)} b=${JSON.stringify(eb.linkTarget)}`,
      ])
    } else if (ea.type === 'file' && ea.size !== eb.size) {
      diffs.push([rel, `size mismatch: ${q} a=${ea.size} b=${eb.size}`])
    } else if (ea.type === 'file' && ea.sha256 !== eb.sha256) {
      diffs.push([
        rel,
        `content mismatch: ${q} (same size ${ea.size}, sha256 a=${ea.sha256?.slice(0, 12)}… b=${eb.sha256?.slice(0, 12)}…)`,
      ])
    }
  }
  for (const [rel, eb] of b) {
    if (!a.has(rel)) diffs.push([rel, `extra on b: ${JSON.stringify(rel)} (${eb.type})`])
  }
  return diffs.sort(([pa, ma], [pb, mb]) => compare(pa, pb) || compare(ma, mb)).map(([, message]) => message)
}

const MAX_LISTED = 20

/** Throws an AssertionError listing (up to 20 of) the differences. */
export async function assertTreesEqual (a: string, b: string, opts: TreeOptions = {}): Promise<void> {
  const diffs = await diffTrees(a, b, opts)
  if (diffs.length === 0) return
  throw new AssertionError({
    message: `trees differ (a=${a}, b=${b}):\n${formatDiffs(diffs)}`,
    actual: diffs,
    expected: [],
    operator: 'assertTreesEqual',
  })
}

/**
 * Polls until the trees are equal, e.g. while a replicator catches up.
 * On timeout the error lists the differences that remained.
 */
export async function waitForTreesEqual (
  a: string,
  b: string,
  opts: TreeOptions & { timeoutMs?: number; intervalMs?: number } = {}
): Promise<void> {
  await waitFor(
    async () => {
      const diffs = await diffTrees(a, b, opts)
      // Throwing makes waitFor report the latest differences on timeout.
      if (diffs.length > 0) throw new Error(`${diffs.length} difference(s):\n${formatDiffs(diffs)}`)
      return true
    },
    {
      ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      intervalMs: opts.intervalMs ?? 50,
      message: `trees did not become equal (a=${a}, b=${b})`,
    }
  )
}

/**
 * Matches rsync's receiver temp files (`.<name>.XXXXXX`), handy as an
 * `ignore` for trees that rsync is writing into.
 */
export function isRsyncTempFile (rel: string): boolean {
  return /^\..+\.[A-Za-z0-9]{6}$/.test(basename(rel))
}

function formatDiffs (diffs: string[]): string {
  const shown = diffs.slice(0, MAX_LISTED).map((d) => `  - ${d}`)
  if (diffs.length > MAX_LISTED) shown.push(`  ... and ${diffs.length - MAX_LISTED} more`)
  return shown.join('\n')
}

function hashFile (path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(path)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
  })
}

function isVanished (error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** Code-unit order: deterministic regardless of locale. */
function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
