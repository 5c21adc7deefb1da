import type { LocalChanges, ScanResult, TreeWalk } from './local-changes.js'
import { createWaiters } from './waiters.js'

/**
 * A read of the whole tree (a sweep after a directory went, the periodic
 * rescan) takes at most this share of the time: it waits 9× as long as the
 * last took.
 */
const WHOLE_READ_DUTY = 0.1
/** A read of the whole tree gives the event loop back after about this long (the API answers meanwhile). */
const WALK_SLICE_MS = 20
/** A sweep waits this long after the last change that asked for it, */
const SWEEP_QUIET_MS = 1_000
/** or this long after the first under a steady stream. */
const SWEEP_MAX_MS = 5_000

export interface WholeReadsDeps {
  local: Pick<LocalChanges, 'walkTree'>
  /** Nothing may be read now (a source fault: the caller reads the whole tree once it clears; or closed). */
  blocked: () => boolean
  /** A read begins: what the caller waits to read again is in it, and the watches of the whole tree are checked. */
  beginning: () => void
  /** A step recorded versions (peers to look, before the read ends). */
  recorded: () => void
  /** A read ended: `stale` if deletions were held or confirmed after it began (see TreeWalk). */
  ended: (result: ScanResult, scan: 'whole' | 'stale') => void
  /** The whole tree is read again this often at least, once started (0: only when something asks). */
  everyMs: number
}

/**
 * When the whole tree is read, and the reading: a slice at a time
 * (local-changes.ts, walkTree), so a tree of a million files never holds
 * the event loop for seconds. The periodic read waits `everyMs` after the
 * last read ended, or nine times as long as that read took if that is
 * longer, and a sweep waits for the changes to stop and then for that same
 * budget: reads of the whole tree keep at most a tenth of a core busy. A
 * read asked for while one is under way comes right after it.
 */
export function createWholeReads (deps: WholeReadsDeps) {
  /** When the last read ended and how long its steps took (the budget of the next). */
  let last = { end: 0, ms: 0 }
  /** The read under way. `again`: asked for meanwhile; `sweep`: a sweep asked for meanwhile; `afterStart`: can be the start's. */
  let walk: { tree: TreeWalk, ms: number, again: boolean, sweep: boolean, recorded: number, stale: boolean, afterStart: boolean } | null = null
  let walkTimer: NodeJS.Immediate | null = null
  let periodicTimer: NodeJS.Timeout | null = null
  let sweepTimer: NodeJS.Timeout | null = null
  let sweepSince: number | null = null
  let started = false
  let closed = false
  /** A read has ended since the start (what changed while nobody watched is recorded); and who waits for one. */
  let readOnce = false
  const readWaiters = createWaiters<null>(() => readOnce)
  const budget = (): number => last.ms * (1 / WHOLE_READ_DUTY - 1)

  function schedulePeriodic (): void {
    if (periodicTimer !== null) clearTimeout(periodicTimer)
    periodicTimer = null
    if (!started || closed || deps.everyMs <= 0) return
    periodicTimer = setTimeout(() => {
      periodicTimer = null
      request()
      // Not begun (a source fault): asked again at the next interval; begun: its end schedules the next.
      if (walk === null) schedulePeriodic()
    }, Math.max(deps.everyMs, budget()))
  }

  function sweep (): void {
    if (sweepTimer !== null) clearTimeout(sweepTimer)
    const now = Date.now()
    sweepSince ??= now
    const quiet = now - sweepSince >= SWEEP_MAX_MS ? 0 : SWEEP_QUIET_MS
    sweepTimer = setTimeout(() => {
      sweepTimer = null
      // A read already under way may have passed where the directory went: once it ends, the sweep waits its budget again.
      if (walk !== null) walk.sweep = true
      else request()
    }, Math.max(quiet, last.end + budget() - now))
  }

  function request (): void {
    if (deps.blocked()) return
    if (walk !== null) {
      walk.again = true
      return
    }
    deps.beginning()
    if (sweepTimer !== null) clearTimeout(sweepTimer)
    sweepTimer = null
    sweepSince = null
    // The next periodic read counts from the end of this one.
    if (periodicTimer !== null) clearTimeout(periodicTimer)
    periodicTimer = null
    walk = { tree: deps.local.walkTree(), ms: 0, again: false, sweep: false, recorded: 0, stale: false, afterStart: started }
    // The first slice now: a small tree is read before this returns.
    step()
  }

  function step (): void {
    walkTimer = null
    const current = walk
    if (current === null) return
    // A source fault meanwhile: what is left is not the tree; the whole of it is read once the fault clears.
    if (deps.blocked()) {
      walk = null
      schedulePeriodic()
      return
    }
    const start = performance.now()
    const done = current.tree.step(WALK_SLICE_MS)
    current.ms += performance.now() - start
    if (!done) {
      // Peers need not wait for the end of a long read to get what it found so far (a start's, after a while down).
      const { versions, tombstones } = current.tree.result
      if (versions + tombstones > current.recorded) deps.recorded()
      current.recorded = versions + tombstones
      walkTimer = setImmediate(step)
      return
    }
    walk = null
    last = { end: Date.now(), ms: current.ms }
    deps.ended(current.tree.result, current.stale ? 'stale' : 'whole')
    if (!readOnce && current.afterStart) {
      readOnce = true
      readWaiters.check()
    }
    if (current.again) request()
    else if (current.sweep) sweep()
    if (walk === null) schedulePeriodic()
  }

  return {
    /** Reads the whole tree now, or right after the read under way. */
    request,
    /** Reads the whole tree once the changes that ask for it stop, within its share of the time. */
    sweep,
    /** Reads the whole tree now, and again every `everyMs` (or longer, see above). */
    start (): void {
      started = true
      request()
      if (walk === null) schedulePeriodic()
    },
    /** The read under way began before deletions were held or confirmed: its count is not the whole count. */
    stale (): void {
      if (walk === null) return
      walk.stale = true
      walk.tree.stale()
    },
    /** A read under way or a sweep to come: the node is not idle. */
    pending (): number {
      return (sweepTimer === null ? 0 : 1) + (walk === null ? 0 : 1)
    },
    /** Resolves true once a read has ended since the start; false if `signal` aborts first or the reads close. */
    startRead (signal: AbortSignal): Promise<boolean> {
      return !readOnce && closed ? Promise.resolve(false) : readWaiters.wait(null, signal)
    },
    close (): void {
      for (const timer of [sweepTimer, periodicTimer]) if (timer !== null) clearTimeout(timer)
      if (walkTimer !== null) clearImmediate(walkTimer)
      walk = null
      closed = true
      readWaiters.close()
    },
  }
}
