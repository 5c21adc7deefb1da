import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { result, type CheckResult } from './result.js'

export const WATCH_LIMIT_FILE = '/proc/sys/fs/inotify/max_user_watches'

/** Past this share of the limit the tree is too close to it: the watches are shared by every process of the user, and the tree grows. */
const TIGHT_SHARE = 0.8

/** How long the walk may take: a cold tree of millions of directories must not hold a start (ExecStartPre) for minutes. */
export const WALK_BUDGET_MS = 10_000

export interface WatchCount {
  /** Directories (and with `files`, files too) seen; stops one past the limit. */
  watched: number
  /** Directories that could not be read (their contents are not counted). */
  unreadable: number
  /** The time budget ran out before the walk did: `watched` is a lower bound. */
  partial: boolean
}

export interface CountOptions {
  files: boolean
  stopAfter: number
  budgetMs?: number
  /** A seam for tests. */
  now?: () => number
}

/**
 * How many inotify watches the watcher would hold on `root`: one per
 * directory (parcel), or per directory and file (chokidar). Every directory
 * counts, an excluded one too, so this is an upper bound. Stops once it is
 * past `stopAfter` (a tree of millions is not walked to say it is too big),
 * or out of time.
 */
export function countWatches (root: string, opts: CountOptions): WatchCount {
  const now = opts.now ?? Date.now
  const deadline = now() + (opts.budgetMs ?? WALK_BUDGET_MS)
  let watched = 0
  let unreadable = 0
  const dirs = [root]
  while (dirs.length > 0 && watched <= opts.stopAfter) {
    if (now() > deadline) return { watched, unreadable, partial: true }
    const dir = dirs.pop()!
    watched++
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      unreadable++
      continue
    }
    for (const entry of entries) {
      // Symbolic links are not followed, by the walk nor by the watchers.
      if (entry.isDirectory()) dirs.push(path.join(dir, entry.name))
      else if (opts.files) watched++
    }
  }
  return { watched, unreadable, partial: false }
}

/** The kernel's per-user limit, or why it could not be read (not Linux, /proc not mounted). */
export function readWatchLimit (file: string = WATCH_LIMIT_FILE): number | string {
  try {
    const limit = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(limit) && limit >= 0 ? limit : `${file} does not hold a number`
  } catch (err) {
    return `cannot read ${file}: ${(err as Error).message}`
  }
}

export interface WatchLimitInput {
  source: string
  backend: 'parcel' | 'chokidar'
  usePolling: boolean
  /** The limit, or why it is unknown. */
  limit: number | string
  /** Undefined when no count was needed (polling, no limit known). */
  count?: WatchCount | undefined
}

/** Whether the watcher's watches fit under the limit, with room to spare. */
export function judgeWatchLimit (input: WatchLimitInput): CheckResult {
  const { ok, warn, fail } = result('inotify', input.source)
  if (input.usePolling) return ok('polling: no inotify watches are used')
  if (typeof input.limit === 'string') return warn(`the inotify watch limit is unknown: ${input.limit}`)
  const count = input.count
  if (count === undefined) return warn('the source was not counted')
  const what = input.backend === 'parcel' ? 'directories (one watch each, watcher.backend parcel)' : 'directories and files (one watch each, watcher.backend chokidar)'
  const unreadable = count.unreadable > 0 ? `; ${count.unreadable} directories could not be read` : ''
  const fix = `raise it: sysctl -w fs.inotify.max_user_watches=${suggestedLimit(count.watched)} (and in /etc/sysctl.d, see examples/systemd/90-syncplane-inotify.conf)`
  if (count.watched > input.limit) {
    return fail(`more than ${input.limit} ${what}, above fs.inotify.max_user_watches (${input.limit}): the watcher would turn degraded, /readyz answer 503, and changes below unwatched directories wait for the periodic mirror; ${fix}${unreadable}`)
  }
  const line = `${count.partial ? 'at least ' : ''}${count.watched} ${what}, fs.inotify.max_user_watches ${input.limit}${unreadable}`
  if (count.watched > input.limit * TIGHT_SHARE) return warn(`${line}: little room left, and every process of the user shares the limit; ${fix}`)
  if (count.partial) return warn(`${line}; counting stopped after ${WALK_BUDGET_MS / 1000} s (a large tree, or slow storage)`)
  return count.unreadable > 0 ? warn(line) : ok(line)
}

/** The next power of two at least four times the count, and never below a million (what the example sets). */
function suggestedLimit (watched: number): number {
  let limit = 1_048_576
  while (limit < watched * 4) limit *= 2
  return limit
}
