import type { Logger } from 'pino'
import type { Job, JobKind, JobTrigger } from '../db/job-store.js'
import type { DeleteHold } from './delete-guard.js'
import type { TargetStatus } from './engine-types.js'
import type { ResolvedTarget } from './targets.js'

/**
 * What the engine keeps per target while it runs. Every change gets the next
 * number of one engine-wide sequence (`seq`); a target has delivered a change
 * once a run that started after it ended well. Where a change of target `t`
 * can be, from the watcher to the target:
 *
 *   recordChanges ──▶ backlog ──┬──▶ inFlight ──────────────── primary run ───────▶ delivered
 *      │                 ▲      │                               (incremental)
 *      │                 │      └──▶ alongsideMirror.batch ──▶ awaitingMirror ──┬──▶ delivered (the mirror read it)
 *      │                 │           (an incremental run        (until the      │
 *      │                 │            beside a running mirror)   mirror ends)   │
 *      │                 └── a failed run's batch; what the mirror did not read ┘
 *      │ collapsed: not kept
 *      ▼
 *   droppedFrom..droppedTo ──────────── a mirror that starts after them ───────▶ delivered
 *
 * A mirror owed (`owedMirrorSeq`) covers every change up to that seq; once it
 * starts (`mirrorStartSeq`) it reads the source, so what it read is delivered
 * when it ends well, wherever that change waited.
 */
export interface BacklogEntry {
  /** The latest observation: a delivery must be at least that recent to settle the path. */
  seq: number
  /** The oldest observation not yet delivered (what a flush barrier and the lag wait for). */
  firstSeq: number
  observedAt: number
}

export type Backlog = Map<string, BacklogEntry>

export interface RunningRun {
  jobId: number
  /** The job kind, as stored and shown: a full run is a mirror. */
  kind: JobKind
  abort: AbortController
  done: Promise<void>
}

export interface TargetRuntime {
  def: ResolvedTarget
  log: Logger
  /** Changes waiting for a run, by path. */
  backlog: Backlog
  /** The batch of the primary lane's incremental run; null when it runs a mirror or nothing. */
  inFlight: Backlog | null
  /** The primary lane: one run at a time, an incremental batch or a full mirror. */
  running: RunningRun | null
  /**
   * An incremental run alongside a running full mirror, so that a mirror of
   * a large tree (at start, hourly) does not hold live changes back.
   */
  alongsideMirror: { jobId: number; batch: Backlog; abort: AbortController; done: Promise<void> } | null
  /**
   * Changes a run alongside a mirror delivered. The mirror may undo them
   * (its list can predate them, and --delete acts on that list), so they are
   * sent again after it unless it read them itself. Their journal rows stay.
   */
  awaitingMirror: Backlog
  /** How the last full mirror ended: what releases `awaitingMirror`. */
  lastMirror: { ok: boolean; startSeq: number }
  /** The job row of the next full mirror, created when it was asked for. */
  queuedMirror: { job: Job; force: boolean } | null
  /** A full mirror is owed for every change up to this seq (durable). */
  owedMirrorSeq: number | null
  owedMirrorTrigger: JobTrigger
  /** When the owed mirror was first owed: the lag counts from there. */
  owedMirrorSince: number
  /**
   * The backlog overflowed: until the owed mirror starts, new changes are
   * not kept (the mirror reads them from the source). This bounds memory
   * and the journal during a long outage.
   */
  collapsed: boolean
  /** Seqs of changes not kept while collapsed: delivered only by a mirror that starts after them. */
  droppedFrom: number | null
  droppedTo: number
  /** Flush barriers waiting on this target: runs start without waiting for a quiet moment. */
  flushWaiters: number
  /** seq when the running full mirror started reading the source. */
  mirrorStartSeq: number
  /** The trigger the next incremental job records (`resume` for the first batch after a pause). */
  nextTrigger: JobTrigger
  /** When the oldest change in the backlog arrived (batch.maxDelayMs counts from here); Infinity when empty. */
  firstPendingAt: number
  /** When the latest change arrived (batch.quietMs counts from here). */
  lastChangeAt: number
  /** The wake-up timer of this target and when it is due. */
  timer: unknown
  timerDue: number
  /** Incremental and full runs back off apart: a mirror that keeps failing must not hold back the changes. */
  failures: number
  retryAt: number | null
  mirrorFailures: number
  mirrorRetryAt: number | null
  /** The last failure only an operator can fix (bad arguments, auth): retries go at the slowest pace. */
  slowRetry: boolean
  lastSuccessAt: number | null
  lastError: TargetStatus['lastError']
  /** Deletions held back until an operator confirms them (see delete-holds.ts). */
  hold: DeleteHold | null
  /** Missing names of held incremental runs (not kept across restarts: a mirror's count replaces the sum anyway). */
  heldDeleteNames: Set<string>
  /** Entries on the target, as the last mirror counted them and later runs changed them; null until a mirror. */
  fileCount: number | null
  /** Dropped from the configuration: its last run may still be ending, nothing starts again. */
  removed: boolean
  /** Paused on its own by an operator (kept across restarts, see target-control.ts). */
  paused: boolean
  /** The job an operator cancelled, until its run ends. */
  cancelledJobId: number | null
}

/** The record of a target as it starts: nothing pending, nothing owed (recovery and reconfigure fill that in). */
export function newTargetRuntime (def: ResolvedTarget, log: Logger): TargetRuntime {
  return {
    def,
    log,
    backlog: new Map(),
    inFlight: null,
    running: null,
    alongsideMirror: null,
    awaitingMirror: new Map(),
    lastMirror: { ok: false, startSeq: 0 },
    queuedMirror: null,
    owedMirrorSeq: null,
    owedMirrorTrigger: 'recovery',
    owedMirrorSince: 0,
    collapsed: false,
    droppedFrom: null,
    droppedTo: 0,
    flushWaiters: 0,
    mirrorStartSeq: 0,
    nextTrigger: 'watch',
    firstPendingAt: Infinity,
    lastChangeAt: 0,
    timer: null,
    timerDue: 0,
    failures: 0,
    retryAt: null,
    mirrorFailures: 0,
    mirrorRetryAt: null,
    slowRetry: false,
    lastSuccessAt: null,
    lastError: null,
    hold: null,
    heldDeleteNames: new Set(),
    fileCount: null,
    removed: false,
    paused: false,
    cancelledJobId: null,
  }
}

/** The entries of `t` not delivered yet and in memory: backlog, both lanes' batches, and what awaits a mirror. */
export function undelivered (t: TargetRuntime, withAwaiting = true): Backlog[] {
  const maps: Backlog[] = [t.backlog]
  if (t.inFlight !== null) maps.push(t.inFlight)
  if (t.alongsideMirror !== null) maps.push(t.alongsideMirror.batch)
  if (withAwaiting) maps.push(t.awaitingMirror)
  return maps
}

/** How many changes `t` keeps in memory: what the backlog limit (batch.maxPending) weighs. */
export function keptCount (t: TargetRuntime): number {
  return undelivered(t).reduce((n, m) => n + m.size, 0)
}

/** The oldest seq target `t` has not confirmed, or Infinity when it is up to date. */
export function undeliveredFloor (t: TargetRuntime): number {
  let floor = t.droppedFrom ?? Infinity
  for (const m of undelivered(t)) for (const e of m.values()) if (e.firstSeq < floor) floor = e.firstSeq
  return floor
}
