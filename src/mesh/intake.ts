import path from 'node:path'
import type { HoldScan } from './delete-hold.js'
import type { LocalChanges, ScanResult } from './local-changes.js'
import { isMeshInternal } from './mesh-paths.js'
import { inTree, lookAt, type Entry } from './tree-fs.js'
import { createWholeReads } from './whole-reads.js'
import type { WatchCheck } from '../watcher/watcher.js'

/** How long the changes of one event-loop turn wait for more before they are looked at. */
const INTAKE_MS = 5
/** Deletions the watcher reports wait this long for the rest of their burst, so the mass-delete guard counts them together. */
const DELETE_SETTLE_MS = 1_000
/** The directories changes were reported in are read again this long after the last report, */
const VERIFY_QUIET_MS = 1_000
/** or this long after the first one under a steady stream. */
const VERIFY_MAX_MS = 5_000
/** While this node sends or applies batches, the read again waits (polled this often), */
const BUSY_POLL_MS = 100
/** at most this long by default. */
const VERIFY_DEFER_MAX_MS = 30_000

export interface IntakeDeps {
  root: string
  local: LocalChanges
  /** A source fault: nothing is looked at meanwhile; the whole tree is, once it clears. */
  sourceFault: () => string | null
  /** Has the watcher make sure directories are watched: those read again, and the whole tree with each rescan. */
  checkWatches: (checks: readonly WatchCheck[]) => void
  /** What the mass-delete guard held back, and in what kind of scan (delete-hold.ts, `seen`). */
  deletesHeld: (count: number, scan: HoldScan) => void
  /** Versions were recorded (peers owed, flush waiters to look again). */
  recorded: () => void
  /** This node is sending batches to peers or applying theirs: the read again waits (see verify). */
  busy: () => boolean
  /** How long the read again waits for a busy node at most (default 30 s). */
  verifyDeferMaxMs?: number
  /** The whole tree is read again this often at least, once started (0: only when something asks). */
  rescanEveryMs: number
}

/**
 * What the watcher reports, turned into versions: changed paths within a few
 * milliseconds, deletions after their burst (so a mass deletion is counted
 * whole), the whole tree on a timer and once a source fault clears.
 *
 * The directories changes were reported in are read again once they stop
 * (one level, against the rows; a directory reported itself, made or moved
 * in, whole): the watcher misses a few changes where directories move and
 * are made at speed (docs/watchers.md), always where something else
 * happened, and the node is not idle until this read found them, rather
 * than until the next rescan of the whole tree. The read waits while the
 * node sends or applies batches, up to 30 s: what is known goes first.
 *
 * Where a directory went (removed, moved away, replaced; here or by a
 * peer's version), parcel loses watches and reports what is written below a
 * moved directory under its old path, which no longer exists: no read of
 * the directories reported finds those. The whole tree is read (a sweep,
 * the rescan's work) once the changes stop, within its share of the time
 * (whole-reads.ts), and the node is not idle until then.
 */
export function createIntake (deps: IntakeDeps) {
  let intake = new Set<string>()
  let intakeTimer: NodeJS.Timeout | null = null
  /** Paths the watcher reported that are gone from disk, waiting for the rest of their burst. */
  let gone = new Set<string>()
  let goneTimer: NodeJS.Timeout | null = null
  /** Directories changes were reported in since the last read of them, and when the first came. */
  let active = new Set<string>()
  /** Directories reported themselves (made, or moved in): read whole again then, what is below them included. */
  let activeTrees = new Set<string>()
  let activeSince: number | null = null
  /** When the read again first found the node busy. */
  let deferredSince: number | null = null
  const deferMaxMs = deps.verifyDeferMaxMs ?? VERIFY_DEFER_MAX_MS
  /** Reports since the last drain that count for the read again (after the start; not a flush's own paths). */
  let armed = false
  let verifyTimer: NodeJS.Timeout | null = null
  /** A source fault was seen: the whole tree is looked at again once it clears. */
  let faulted = false
  let closed = false

  const blocked = (): boolean => {
    if (closed) return true
    if (deps.sourceFault() === null) return false
    faulted = true
    return true
  }

  /** A read of the whole tree counts held deletions whole; a scan of a few paths (`partial`) cannot tell. */
  const afterScan = (result: ScanResult, scan: HoldScan): void => {
    if (scan !== 'partial' || result.deletesHeld > 0) deps.deletesHeld(result.deletesHeld, scan)
    // Held here: the rest of the burst waits with them until a read of the whole tree counts them all, one that
    // began after them (within its share of the time: deletions trickling in while an operator is away hold too).
    if (scan === 'partial' && result.deletesHeld > 0) {
      reads.stale()
      reads.sweep()
    } else if (scan === 'partial' && result.dirsGone > 0) {
      reads.sweep()
    }
    deps.recorded()
  }

  const reads = createWholeReads({
    local: deps.local,
    blocked,
    everyMs: deps.rescanEveryMs,
    recorded: deps.recorded,
    ended: afterScan,
    beginning () {
      faulted = false
      // What waits to be read again is in the whole tree. A read again a source fault skipped has no timer; left, it
      // kept the node from idle until the next report. Reported paths and deletions stay, with a timer (reports
      // before the start set none): the read reaches them only in a while, and a flush meanwhile must find them.
      if (intake.size > 0) intakeTimer ??= setTimeout(drain, INTAKE_MS)
      if (gone.size > 0) goneTimer ??= setTimeout(settleDeletions, DELETE_SETTLE_MS)
      armed = false
      active = new Set()
      activeTrees = new Set()
      activeSince = deferredSince = null
      deps.checkWatches([{ dir: '', deep: true }])
    },
  })

  function drain (): void {
    intakeTimer = null
    if (intake.size === 0 || blocked()) return
    const paths = intake
    const arm = armed
    intake = new Set()
    armed = false
    // What each path is, kept for the scan below (one lstat per reported path, not two).
    const present = new Map<string, Entry>()
    for (const p of paths) {
      const seen = lookAt(inTree(deps.root, p))
      if (seen === null || seen.type === 'other') gone.add(p)
      else present.set(p, seen)
      if (!arm) continue
      // Where a peer's version landed too: a change the watcher missed is as often next to one of theirs as to a local one.
      active.add(path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p))
      if (seen?.type === 'dir') activeTrees.add(p)
    }
    if (arm) armVerify()
    if (gone.size > 0) goneTimer ??= setTimeout(settleDeletions, DELETE_SETTLE_MS)
    afterScan(deps.local.scan(present.keys(), present), 'partial')
  }

  /** The deletions of a burst, recorded in one scan: more than the guard allows are held, not sent one watcher batch at a time. */
  function settleDeletions (): void {
    if (goneTimer !== null) clearTimeout(goneTimer)
    goneTimer = null
    if (gone.size === 0 || blocked()) return
    const paths = gone
    gone = new Set()
    afterScan(deps.local.scan(paths), 'partial')
  }

  function armVerify (): void {
    if (verifyTimer !== null) clearTimeout(verifyTimer)
    activeSince ??= Date.now()
    verifyTimer = setTimeout(verify, Date.now() - activeSince >= VERIFY_MAX_MS ? 0 : VERIFY_QUIET_MS)
  }

  function verify (): void {
    verifyTimer = null
    if ((active.size === 0 && activeTrees.size === 0) || blocked()) {
      activeSince = deferredSince = null
      return
    }
    // What is known goes first: in a burst the read again (a lstat and a row per entry of every directory written
    // in) took a fifth of the sending node's CPU while its batches waited for the same two cores. The node is not
    // idle meanwhile, and a steady stream waits no longer than `deferMaxMs`.
    if (deps.busy() && Date.now() - (deferredSince ??= Date.now()) < deferMaxMs) {
      verifyTimer = setTimeout(verify, BUSY_POLL_MS)
      return
    }
    activeSince = deferredSince = null
    const dirs = active
    const trees = activeTrees
    active = new Set()
    activeTrees = new Set()
    // Where the watcher missed changes it may have lost a directory's watch: every later change there would be missed too.
    deps.checkWatches([...[...dirs].map((dir) => ({ dir, deep: false })), ...[...trees].map((dir) => ({ dir, deep: true }))])
    if (dirs.size > 0) afterScan(deps.local.scanDirs(dirs), 'partial')
    // Below a directory moved in, parcel may still report under the old path (docs/watchers.md): read whole.
    if (trees.size > 0) afterScan(deps.local.scan(trees), 'partial')
  }

  function waiting (): number {
    return intake.size + gone.size + active.size + activeTrees.size + reads.pending()
  }

  return {
    /** Paths the watcher reported (or a flush named); looked at within a few milliseconds, and their directories read again after, once `armed`. */
    add (paths: Iterable<string>, arm: boolean): void {
      if (closed) return
      for (const p of paths) if (!isMeshInternal(p)) intake.add(p)
      // Before the start (its scan of the whole tree comes) or for a flush that names its paths: no read again.
      if (intake.size > 0 && arm) {
        armed = true
        intakeTimer ??= setTimeout(drain, INTAKE_MS)
      }
    },
    /** Looks at everything reported so far now, deletions included (a flush, a peer's batch). */
    drain,
    flushAll (): void {
      drain()
      settleDeletions()
    },
    /** Reads the whole tree now (or right after the read under way). */
    rescan: reads.request,
    /** Reads the whole tree now, and again every `rescanEveryMs` (or longer: whole-reads.ts). */
    start: reads.start,
    /** Resolves true once a read of the whole tree has ended since the start; false if `signal` aborts first or the intake closes. */
    startRead: reads.startRead,
    /** An operator confirmed the held deletions: a read of the whole tree that began after that records them. */
    confirmed (): void {
      reads.stale()
      reads.request()
    },
    /** The source guard cleared a fault it had reported. */
    faultCleared (): void {
      if (!faulted) return
      reads.request()
      drain()
    },
    /** Nothing waiting to be looked at. */
    empty (): boolean {
      return waiting() === 0
    },
    /** Paths and directories waiting to be looked at (or read again). */
    waiting,
    close (): void {
      closed = true
      for (const timer of [intakeTimer, goneTimer, verifyTimer]) if (timer !== null) clearTimeout(timer)
      reads.close()
    },
  }
}
