import { isDeepStrictEqual } from 'node:util'
import type { Logger } from 'pino'
import type { Job, JobStore, JobTrigger } from '../db/job-store.js'
import type { PendingStore } from '../db/pending-store.js'
import type { SettingsStore } from '../db/settings-store.js'
import { buildFullArgs, buildIncrementalArgs, type FullCompare, type RsyncCommonOptions } from '../rsync/args.js'
import { parseTreeCounts } from '../rsync/output.js'
import type { RsyncOutcome, RsyncRunner } from '../rsync/runner.js'
import { blocksRuns, type SourceFault } from '../watcher/source-identity.js'
import type { WatcherStatus } from '../watcher/watcher.js'
import { SyncplaneError } from '../errors.js'
import { retryDelayMs, type BackoffOptions } from './backoff.js'
import { lstatKindOf } from './batch-plan.js'
import { SENT_CHECK_DELAY_MS } from './sent-check.js'
import { createInProcessLookup, planRun, type PlannedRun, type SourceLookup } from './source-lookup.js'
import { createJournalWriter, type JournalWriter } from './journal-writer.js'
import { judgeOutcome, type Verdict } from './outcome.js'
import { checkMirrorSafety } from './mirror-guard.js'
import { onLane, type Lane, type ResolvedTarget } from './targets.js'
import { previewMirror, type MirrorPreview } from './mirror-preview.js'
import { deleteLimit, limitMessage, parseHold, type DeleteGuardOptions, type DeleteHold, type HoldReason } from './delete-guard.js'
import { passWatcherBarrier, type WatcherBarrier } from './watcher-barrier.js'

export interface EngineOptions {
  source: string
  excludes: readonly string[]
  batch: { quietMs: number; maxDelayMs: number; maxPaths: number; maxPending: number }
  rsync: { ioTimeoutSec: number; connectTimeoutSec: number; deadlineSec: number; killGraceSec: number; extraArgs: readonly string[] }
  fullSync: { compare: FullCompare; deadlineSec: number; intervalSec: number; afterCrash: boolean }
  retry: BackoffOptions
  deletes: DeleteGuardOptions
}

/** The source root's guard (see source-guard.ts): runs look before they start and before they delete. */
export interface SourceCheck {
  check (): SourceFault | null
  /** The directory now at the path becomes the replicated one. */
  adopt (): void
}

export interface EngineDeps {
  options: EngineOptions
  targets: readonly ResolvedTarget[]
  jobs: JobStore
  pending: PendingStore
  /** Writes the journal behind the engine (the service's retries while the database fails); a plain one over `pending` by default. */
  journalWriter?: JournalWriter
  settings: SettingsStore
  runner: RsyncRunner
  logger: Logger
  watcherStatus: () => WatcherStatus
  now?: () => number
  random?: () => number
  /** Large lookups on the source, off the event loop (the service passes its lookup thread); libuv's pool by default. */
  lookup?: SourceLookup
  source?: SourceCheck
  /** Resolves once the watcher reported every change made before the call: a flush without paths waits for it. */
  watcherBarrier?: WatcherBarrier
}

export const TARGET_STATES = ['idle', 'waiting', 'paused', 'syncing', 'retrying', 'failing', 'held'] as const
export type TargetState = typeof TARGET_STATES[number]

export interface TargetStatus {
  name: string
  url: string
  state: TargetState
  pending: number
  inFlight: number
  /** A full mirror is owed to this target; changes it will carry are not counted in `pending`. */
  fullSyncPending: boolean
  /** Age of the oldest change this target has not confirmed, in ms; 0 when none. */
  lagMs: number
  runningJobId: number | null
  queuedFullJobId: number | null
  consecutiveFailures: number
  nextRetryAt: number | null
  lastSuccessAt: number | null
  lastError: { message: string; at: number; jobId: number } | null
  /** Deletions this target holds back until an operator confirms them (the mass-delete guard or a source fault). */
  deletesHeld: DeleteHold | null
}

export interface EngineStatus {
  watcher: { state: WatcherStatus['state'] | 'paused'; lastError: string | null }
  /** Null while the source is the directory that was replicated. */
  sourceFault: SourceFault | null
  paused: boolean
  targets: TargetStatus[]
}

export interface FullSyncRequest {
  targets?: readonly string[] | undefined
  trigger: JobTrigger
  requestedBy?: string | undefined
  /** Mirror even when the source is empty and the target is not. */
  force?: boolean | undefined
}

/**
 * `seq` is the latest observation (a delivery must be at least that recent
 * to settle the path); `firstSeq` and `observedAt` are the oldest one not yet
 * delivered (what a flush barrier and the lag wait for).
 */
interface PendingEntry { seq: number; firstSeq: number; observedAt: number }

export type EngineEvent =
  | { type: 'job.queued' | 'job.started' | 'job.finished'; job: Job }
  | { type: 'watch.paused' | 'watch.resumed' }
  | { type: 'watcher.degraded'; message: string }
  | { type: 'source.restored' }
  | { type: 'deletes.held'; target: string; hold: DeleteHold }
  | { type: 'deletes.released'; target: string }

/** What reconfigure() did, by target name. */
export interface Reconfigured {
  added: string[]
  removed: string[]
  /** Kept their pending changes; a new destination (url, ssh) is owed a full mirror. */
  changed: string[]
  /** Existing targets now owed a full mirror: a changed destination, or an exclude pattern dropped. */
  mirrorOwed: string[]
}

export interface FlushRequest {
  targets?: readonly string[] | undefined
  /** Paths (relative to the source) the caller just changed; recorded now, whatever the watcher has seen yet. */
  paths?: readonly string[] | undefined
  timeoutMs: number
}

export interface FlushResult {
  /** False when the timeout passed first (the work goes on). */
  done: boolean
  /** The runs that carried changes observed before the flush. */
  jobs: Job[]
}

interface Barrier {
  seq: number
  targets: Set<Target>
  jobs: Set<number>
  check (): void
}

interface Target {
  def: ResolvedTarget
  log: Logger
  pending: Map<string, PendingEntry>
  inFlight: Map<string, PendingEntry> | null
  running: { jobId: number; kind: 'incremental' | 'full'; abort: AbortController; done: Promise<void> } | null
  /**
   * An incremental run alongside a running full mirror, so that a mirror of
   * a large tree (at start, hourly) does not hold live changes back.
   */
  side: { jobId: number; batch: Map<string, PendingEntry>; abort: AbortController; done: Promise<void> } | null
  /**
   * Changes a side run delivered. The mirror may undo them (its list can
   * predate them, and --delete acts on that list), so they are sent again
   * after it unless it read them itself.
   */
  held: Map<string, PendingEntry>
  /** How the last full mirror ended: what releases `held`. */
  lastMirror: { ok: boolean; startSeq: number }
  /** The job row of the next full mirror, created when it was asked for. */
  queuedFull: { job: Job; force: boolean } | null
  /** A full mirror is owed for every change up to this seq (durable). */
  fullOwedSeq: number | null
  fullOwedTrigger: JobTrigger
  fullOwedSince: number
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
  urgent: number
  /** seq when the running full mirror started reading the source. */
  fullStartSeq: number
  nextTrigger: JobTrigger
  firstPendingAt: number
  lastChangeAt: number
  timer: NodeJS.Timeout | null
  timerDue: number
  /** Incremental and full runs back off apart: a mirror that keeps failing must not hold back the changes. */
  failures: number
  retryAt: number | null
  fullFailures: number
  fullRetryAt: number | null
  slowRetry: boolean
  lastSuccessAt: number | null
  lastError: TargetStatus['lastError']
  hold: DeleteHold | null
  /** Missing names of held incremental runs (not kept across restarts: a mirror's count replaces the sum anyway). */
  heldNames: Set<string>
  /** Entries on the target, as the last mirror counted them and later runs changed them; null until a mirror. */
  fileCount: number | null
  /** Dropped from the configuration: its last run may still be ending, nothing starts again. */
  removed: boolean
}

/** Up to this many paths are looked up on the event loop (about a millisecond of lstats). */
const SMALL_LOOKUP = 256

const PAUSED_KEY = 'watch.paused'
const LIFECYCLE_KEY = 'engine.lifecycle'
const owedKey = (target: string): string => `target.${target}.fullOwedSeq`
const holdKey = (target: string): string => `target.${target}.deletesHeld`
const filesKey = (target: string): string => `target.${target}.files`

export type SyncEngine = ReturnType<typeof createSyncEngine>

/**
 * The heart of syncplane: a pending set per target fed by the watcher and
 * journaled in SQLite, drained by one rsync at a time per target, so a slow
 * or dead target only ever delays itself.
 */
export function createSyncEngine (deps: EngineDeps) {
  const { jobs, pending: journal, settings, runner, logger } = deps
  // Replaced wholesale by reconfigure(): read it at use, never keep a part of it.
  let options = deps.options
  const now = deps.now ?? Date.now
  const random = deps.random ?? Math.random
  const kindOf = lstatKindOf(options.source)
  const lookup = deps.lookup ?? createInProcessLookup(options.source)
  // A few lookups cost the loop less than a trip to another thread, and never
  // wait for a niced one: a single upload's latency depends on this.
  const planIncremental = async (paths: readonly string[]): Promise<PlannedRun> =>
    paths.length <= SMALL_LOOKUP ? planRun(options.source, paths, kindOf) : lookup.plan(paths)
  const isMissing = (rel: string): boolean => kindOf(rel) === 'missing'
  const missingOf = async (names: readonly string[]): Promise<string[]> =>
    names.length <= SMALL_LOOKUP ? names.filter(isMissing) : lookup.missing(names)
  /** Names runs sent, waiting to be checked against the source (see SENT_CHECK_DELAY_MS). */
  const sentChecks = new Set<{ names: string[]; timer: NodeJS.Timeout }>()
  const commonOf = (o: EngineOptions): RsyncCommonOptions => ({
    source: o.source,
    excludes: o.excludes,
    ioTimeoutSec: o.rsync.ioTimeoutSec,
    connectTimeoutSec: o.rsync.connectTimeoutSec,
    extraArgs: o.rsync.extraArgs,
  })
  let common = commonOf(options)

  const targets = new Map<string, Target>()
  for (const def of deps.targets) targets.set(def.name, newTarget(def))

  /** The record of a target as it starts: nothing pending, nothing owed (restore() and reconfigure() fill that in). */
  function newTarget (def: ResolvedTarget): Target {
    return {
      def,
      log: logger.child({ target: def.name }),
      pending: new Map(),
      inFlight: null,
      running: null,
      side: null,
      held: new Map(),
      lastMirror: { ok: false, startSeq: 0 },
      queuedFull: null,
      fullOwedSeq: null,
      fullOwedTrigger: 'recovery',
      fullOwedSince: 0,
      collapsed: false,
      droppedFrom: null,
      droppedTo: 0,
      urgent: 0,
      fullStartSeq: 0,
      nextTrigger: 'watch',
      firstPendingAt: Infinity,
      lastChangeAt: 0,
      timer: null,
      timerDue: 0,
      failures: 0,
      retryAt: null,
      fullFailures: 0,
      fullRetryAt: null,
      slowRetry: false,
      lastSuccessAt: null,
      lastError: null,
      hold: null,
      heldNames: new Set(),
      fileCount: null,
      removed: false,
    }
  }

  let paused = settings.get(PAUSED_KEY) === '1'
  let sourceFault: SourceFault | null = null
  let started = false
  let closing = false
  let seq = journal.maxSeq()
  const journalWriter = deps.journalWriter ?? createJournalWriter(journal)
  let periodic: NodeJS.Timeout | undefined
  /** Runs of removed targets, stopped but maybe not yet ended: shutdown waits for them too. */
  const retiring = new Set<Promise<void>>()
  const waiters = new Map<number, Array<() => void>>()
  const listeners = new Set<(event: EngineEvent) => void>()
  const barriers = new Set<Barrier>()

  function emit (event: EngineEvent): void {
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (err) {
        logger.error({ err, event: event.type }, 'an engine event listener failed')
      }
    }
  }

  restore()

  /** Picks up what the previous process left: its journal, owed mirrors, and whether it crashed. */
  function restore (): void {
    const at = now()
    const crashed = settings.get(LIFECYCLE_KEY) === 'running'
    settings.set(LIFECYCLE_KEY, 'running')
    const interrupted = jobs.interruptUnfinished(at)
    if (interrupted > 0) logger.warn({ jobs: interrupted }, 'jobs left unfinished by the previous run were marked interrupted')
    for (const t of targets.values()) {
      const owed = settings.get(owedKey(t.def.name))
      if (owed !== undefined) seq = Math.max(seq, Number(owed))
      t.hold = parseHold(settings.get(holdKey(t.def.name)))
      const files = settings.get(filesKey(t.def.name))
      t.fileCount = files === undefined ? null : Number(files)
    }
    let restored = 0
    const unknown = new Set<string>()
    for (const row of journal.loadAll()) {
      const t = targets.get(row.target)
      if (t === undefined) {
        unknown.add(row.target)
        continue
      }
      t.pending.set(row.path, { seq: row.seq, firstSeq: row.seq, observedAt: row.observedAt })
      t.firstPendingAt = Math.min(t.firstPendingAt, at)
      restored++
    }
    for (const name of unknown) {
      logger.warn({ target: name }, 'dropping the journal of a target that is no longer configured')
      journalWriter.removeTarget(name)
    }
    if (restored > 0) logger.info({ paths: restored }, 'restored pending changes from the journal')
    for (const t of targets.values()) {
      if (settings.get(owedKey(t.def.name)) !== undefined) oweFull(t, 'recovery')
      else if (crashed && options.fullSync.afterCrash) oweFull(t, 'recovery')
    }
    if (crashed) logger.warn({ fullSync: options.fullSync.afterCrash }, 'the previous run did not shut down cleanly')
  }

  function addPending (t: Target, path: string, entry: PendingEntry): void {
    t.pending.set(path, entry)
    journalWriter.upsert({ target: t.def.name, path, seq: entry.seq, observedAt: entry.observedAt })
  }

  /** True while an owed full mirror that has not started yet will read every change seen now. */
  function owedMirrorIsAhead (t: Target): boolean {
    if (t.fullOwedSeq === null) return false
    return !(t.running?.kind === 'full' && t.fullOwedSeq <= t.fullStartSeq)
  }

  /** Records (durably) that target `t` needs a full mirror covering every change seen so far. */
  function oweFull (t: Target, trigger: JobTrigger): void {
    if (owedMirrorIsAhead(t)) return
    t.fullOwedSeq = ++seq
    t.fullOwedTrigger = trigger
    t.fullOwedSince = now()
    settings.set(owedKey(t.def.name), String(t.fullOwedSeq))
  }

  /** Replaces the backlog of `t` by an owed mirror and stops keeping changes until it starts. */
  function collapse (t: Target, trigger: JobTrigger): void {
    oweFull(t, trigger)
    t.collapsed = true
    t.pending.clear()
    t.held.clear()
    journalWriter.removeTarget(t.def.name)
    t.firstPendingAt = Infinity
  }

  const dropsChanges = (t: Target): boolean => t.collapsed && owedMirrorIsAhead(t)

  function recordChanges (paths: readonly string[]): void {
    if (paths.length === 0) return
    const at = now()
    const entry = { seq: ++seq, firstSeq: seq, observedAt: at }
    for (const t of targets.values()) {
      if (dropsChanges(t)) {
        t.droppedFrom ??= entry.seq
        t.droppedTo = entry.seq
        continue
      }
      if (t.pending.size === 0) t.firstPendingAt = at
      t.lastChangeAt = at
      for (const p of paths) {
        if (p === '') continue
        const existing = t.pending.get(p)
        addPending(t, p, existing === undefined ? entry : { seq: entry.seq, firstSeq: existing.firstSeq, observedAt: existing.observedAt })
      }
      const backlog = t.pending.size + (t.inFlight?.size ?? 0) + (t.side?.batch.size ?? 0) + t.held.size
      if (backlog > options.batch.maxPending) {
        t.log.warn({ backlog, maxPending: options.batch.maxPending }, 'backlog too long to keep; a full mirror will replace it')
        collapse(t, 'overflow')
      }
      kick(t)
    }
  }

  function arm (t: Target, due: number): void {
    if (t.timer !== null && t.timerDue === due) return
    disarm(t)
    t.timerDue = due
    t.timer = setTimeout(() => {
      t.timer = null
      kick(t)
    }, Math.max(0, due - now()))
  }

  function disarm (t: Target): void {
    if (t.timer !== null) clearTimeout(t.timer)
    t.timer = null
  }

  /** Decides whether target `t` should start a run now, later, or not at all. */
  function kick (t: Target): void {
    if (!started || closing || t.removed) return
    // Nothing to read from: runs wait for the source (sourceChanged kicks again).
    if (blocksRuns(sourceFault)) return disarm(t)
    if (t.running?.kind === 'full') return kickSide(t)
    // A side run outlived its mirror: it finishes before anything else starts.
    if (t.side !== null) return
    if (t.running !== null) return
    const at = now()
    // An operator's explicit request goes ahead of backoff and pause.
    if (t.queuedFull?.job.trigger === 'api') return startFull(t)
    let due = Infinity
    if (!paused && (t.queuedFull !== null || t.fullOwedSeq !== null)) {
      if (t.fullRetryAt === null || at >= t.fullRetryAt) return startFull(t)
      due = t.fullRetryAt
    }
    if (!paused && t.pending.size > 0) {
      const incremental = incrementalDue(t, at)
      if (at >= incremental) return startIncremental(t)
      due = Math.min(due, incremental)
    }
    if (due === Infinity) disarm(t)
    else arm(t, due)
  }

  /** When the pending changes of `t` are due to go: after backoff, at once if urgent, else when quiet or waited long enough. */
  function incrementalDue (t: Target, at: number): number {
    return t.retryAt ?? (t.urgent > 0 ? at : Math.min(t.lastChangeAt + options.batch.quietMs, t.firstPendingAt + options.batch.maxDelayMs))
  }

  /**
   * While a mirror runs: the next incremental batch goes alongside it, one at
   * a time, and only to a target whose last runs succeeded; a failing one
   * gets one attempt at a time, paced by its backoff.
   */
  function kickSide (t: Target): void {
    if (t.side !== null || paused || t.pending.size === 0 || t.failures > 0 || t.fullFailures > 0) return
    const at = now()
    const due = incrementalDue(t, at)
    if (at >= due) startIncremental(t, 'side')
    else arm(t, due)
  }

  function startIncremental (t: Target, lane: Lane = 'main'): void {
    disarm(t)
    if (blocksRuns(checkSource())) return
    const batch = new Map<string, PendingEntry>()
    for (const [p, e] of t.pending) {
      if (batch.size >= options.batch.maxPaths) break
      batch.set(p, e)
    }
    for (const p of batch.keys()) t.pending.delete(p)
    // Whatever did not fit has waited long enough already.
    t.firstPendingAt = t.pending.size > 0 ? now() - options.batch.maxDelayMs : Infinity
    const paths = [...batch.keys()]
    const trigger: JobTrigger = t.failures > 0 ? 'retry' : t.nextTrigger
    t.nextTrigger = 'watch'
    t.retryAt = null
    const job = jobs.create({ target: t.def.name, kind: 'incremental', trigger, status: 'running', attempt: t.failures + 1, paths, now: now() })
    emit({ type: 'job.started', job })
    if (lane === 'main') t.inFlight = batch
    const abort = new AbortController()
    // A batch may name 20,000 paths: it is planned off the event loop.
    const done = planIncremental(paths)
      .then(async (planned) => {
        t.log.debug({ jobId: job.id, paths: paths.length, listed: planned.listed }, 'incremental sync started')
        const target = onLane(t.def, lane)
        const pass = (shape: { maxDelete?: number, deletionsOnly?: boolean }): Promise<RsyncOutcome> => runner.run({
          args: buildIncrementalArgs(target, common, { small: planned.small, ...shape }),
          input: planned.input,
          password: target.password,
          deadlineMs: options.rsync.deadlineSec * 1000,
          killGraceMs: options.rsync.killGraceSec * 1000,
          signal: abort.signal,
          sshControl: target.ssh?.control,
        })
        const { outcome, held } = await guardDeletions(t, job, 'incremental', await pass({ maxDelete: 0 }), (maxDelete) => pass({ maxDelete, deletionsOnly: true }), undefined, planned.input)
        const verdict = withHeldWarning(judgeOutcome(outcome, options.source, isMissing), held, t)
        if (verdict.ok) countEntries(t, outcome, 'incremental')
        if (lane === 'main') finishRun(t, job, verdict, outcome.exitCode)
        else finishSide(t, job, batch, verdict, outcome.exitCode)
        checkSentLater(t, outcome.sent)
      })
      .catch((err: unknown) => {
        if (lane === 'main') crash(t, job, err)
        else finishSide(t, job, batch, crashVerdict(t, job, err), null)
      })
    if (lane === 'main') t.running = { jobId: job.id, kind: 'incremental', abort, done }
    else t.side = { jobId: job.id, batch, abort, done }
  }

  function finishSide (t: Target, job: Job, batch: Map<string, PendingEntry>, verdict: Verdict, exitCode: number | null): void {
    const at = now()
    t.side = null
    if (verdict.ok) {
      jobs.finish(job.id, { status: 'succeeded', exitCode, error: null, warning: verdict.warning, ...verdict.stats, now: at })
      // Journal rows stay until the mirror is known not to have undone this.
      for (const [p, e] of batch) if (!t.held.has(p)) t.held.set(p, e)
      if (verdict.vanished !== null) requeueVanished(t, batch, verdict.vanished, at)
      t.failures = 0
      t.retryAt = null
      t.lastSuccessAt = at
      t.log.info({ jobId: job.id, kind: job.kind, paths: job.pathsCount, files: verdict.stats.filesTransferred, alongside: 'full mirror' }, 'sync succeeded')
    } else {
      jobs.finish(job.id, { status: verdict.interrupted ? 'interrupted' : 'failed', exitCode, error: verdict.error, warning: null, ...verdict.stats, now: at })
      requeueFailed(t, batch, at)
      if (!verdict.interrupted) {
        t.failures++
        t.slowRetry = verdict.retry === 'slow'
        t.retryAt = at + (t.slowRetry ? options.retry.maxDelayMs : retryDelayMs(t.failures, options.retry, random))
        t.lastError = { message: verdict.error, at, jobId: job.id }
        t.log.warn({ jobId: job.id, exitCode, error: verdict.error, failures: t.failures }, 'sync failed')
      }
    }
    if (t.running?.kind !== 'full') releaseHeld(t)
    notify(job.id)
    emit({ type: 'job.finished', job: jobs.get(job.id)! })
    for (const b of barriers) b.check()
    kick(t)
  }

  /** Paths rsync found vanished mid-run (exit 24) go again, as a new change. */
  function requeueVanished (t: Target, batch: Map<string, PendingEntry>, vanished: string[] | 'unknown', at: number): void {
    if (dropsChanges(t)) return
    const again = vanished === 'unknown' ? [...batch.keys()] : vanished
    const entry = { seq: ++seq, firstSeq: seq, observedAt: at }
    for (const p of again) if (!t.pending.has(p)) addPending(t, p, entry)
    if (t.pending.size > 0) t.firstPendingAt = Math.min(t.firstPendingAt, at)
  }

  /** A failed run's paths are pending again, keeping when they were first seen. */
  function requeueFailed (t: Target, batch: Map<string, PendingEntry>, at: number): void {
    if (dropsChanges(t)) return
    for (const [p, e] of batch) {
      const newer = t.pending.get(p)
      t.pending.set(p, newer === undefined ? e : { ...newer, firstSeq: e.firstSeq, observedAt: e.observedAt })
    }
    t.firstPendingAt = Math.min(t.firstPendingAt, at)
  }

  /** After a mirror: what side runs delivered is done if the mirror read it, else it goes again. */
  function releaseHeld (t: Target): void {
    if (t.held.size === 0) return
    const { ok, startSeq } = t.lastMirror
    const done: Array<{ path: string; seq: number }> = []
    for (const [p, e] of t.held) {
      if (ok && e.seq <= startSeq) done.push({ path: p, seq: e.seq })
      else if (!t.pending.has(p) && !dropsChanges(t)) t.pending.set(p, e)
    }
    t.held.clear()
    journalWriter.remove(t.def.name, done)
    if (t.pending.size > 0) {
      t.firstPendingAt = Math.min(t.firstPendingAt, now())
      t.lastChangeAt = 0
    }
  }

  function startFull (t: Target): void {
    disarm(t)
    if (blocksRuns(checkSource())) return
    const at = now()
    const queued = t.queuedFull ?? {
      job: jobs.create({
        target: t.def.name,
        kind: 'full',
        trigger: t.fullFailures > 0 ? 'retry' : t.fullOwedTrigger,
        status: 'queued',
        attempt: t.fullFailures + 1,
        paths: [],
        now: at,
      }),
      force: false,
    }
    t.queuedFull = null
    t.fullRetryAt = null
    t.collapsed = false
    // Changes up to here are read by this mirror; later ones are kept for after it.
    t.fullStartSeq = seq
    const { job } = queued
    // An operator confirmed the held deletions: this mirror makes them, unlimited.
    const force = queued.force || t.hold?.confirmed === true
    jobs.markRunning(job.id, at)
    emit({ type: 'job.started', job: jobs.get(job.id)! })
    t.log.info({ jobId: job.id, trigger: job.trigger }, 'full sync started')
    const abort = new AbortController()
    // The safety check may ask the target (an rsync listing): hold the slot meanwhile.
    const target = onLane(t.def, 'main')
    const done = checkMirrorSafety({ source: options.source, target, common, runner, force, signal: abort.signal })
      .then(async (refusal) => {
        if (refusal !== null && refusal.holdDeletes !== true) {
          return finishRun(t, job, { ok: false, interrupted: abort.signal.aborted, error: refusal.reason, stats: { filesTransferred: null, bytesTransferred: null }, retry: refusal.retry }, null)
        }
        const pass = (shape: { maxDelete?: number, deletionsOnly?: boolean }): Promise<RsyncOutcome> => runner.run({
          args: buildFullArgs(target, { ...common, compare: options.fullSync.compare }, shape),
          password: target.password,
          deadlineMs: options.fullSync.deadlineSec * 1000,
          killGraceMs: options.rsync.killGraceSec * 1000,
          signal: abort.signal,
          sshControl: target.ssh?.control,
        })
        const { outcome, held } = force
          ? { outcome: await pass({}), held: 0 }
          : await guardDeletions(t, job, 'full', await pass({ maxDelete: 0 }), (maxDelete) => pass({ maxDelete, deletionsOnly: true }), refusal?.reason)
        const verdict = withHeldWarning(judgeOutcome(outcome, options.source, isMissing), held, t)
        if (verdict.ok) {
          countEntries(t, outcome, 'full')
          if (force) releaseHold(t)
        }
        finishRun(t, job, verdict, outcome.exitCode)
        checkSentLater(t, outcome.sent)
      })
      .catch((err: unknown) => crash(t, job, err))
    t.running = { jobId: job.id, kind: 'full', abort, done }
  }

  /** Looks at the source root now (a few stats): a fault found here is applied before the run goes on. */
  function checkSource (): SourceFault | null {
    if (deps.source !== undefined) deps.source.check()
    return sourceFault
  }

  /**
   * The second half of the delete guard (see delete-guard.ts). `first` ran
   * with --max-delete=0: it sent everything and counted what it would delete.
   * Within the limit, `deletions` makes them; otherwise they are held.
   */
  async function guardDeletions (t: Target, job: Job, kind: 'incremental' | 'full', first: RsyncOutcome, deletions: (maxDelete: number | undefined) => Promise<RsyncOutcome>, mustHold?: string, list?: Uint8Array): Promise<{ outcome: RsyncOutcome, held: number }> {
    const skipped = first.skippedDeletes
    if (skipped === 0 || !judgeOutcome(first, options.source, isMissing).ok) return { outcome: first, held: 0 }
    const holdAll = (reason: HoldReason, message: string): { outcome: RsyncOutcome, held: number } => {
      // The watcher may report one deletion in several batches: a held one counts once.
      const anew = kind !== 'incremental' || list === undefined || heldAnew(t, list)
      return { outcome: first, held: anew || t.hold === null ? hold(t, job, kind, skipped, reason, message) : 0 }
    }
    if (mustHold !== undefined) return holdAll('source', mustHold)
    const files = parseTreeCounts(first.stdout).files
    // A mirror lists the source; the target holds that and what it would delete.
    const targetFiles = kind === 'full' ? (files === null ? null : files + skipped) : t.fileCount
    // A source that is not the replicated directory any more (looked at again now) deletes nothing.
    const fault = checkSource()
    if (fault !== null) return holdAll('source', fault.message)
    if (t.hold !== null) return holdAll(t.hold.reason, t.hold.message)
    const limit = deleteLimit(options.deletes, targetFiles)
    if (skipped > limit) return holdAll('limit', limitMessage(skipped, options.deletes, targetFiles))
    const second = await deletions(limit === Infinity ? undefined : limit)
    // More to delete than counted a moment ago: the limit stopped the rest.
    const held = second.skippedDeletes > 0 ? hold(t, job, 'incremental', second.skippedDeletes, 'limit', limitMessage(skipped + second.skippedDeletes, options.deletes, targetFiles)) : 0
    const firstExit = first.exitCode === 25 ? 0 : first.exitCode
    return {
      outcome: {
        ...second,
        exitCode: second.exitCode === 0 || second.exitCode === 25 ? firstExit : second.exitCode,
        stdout: `${first.stdout}\n${second.stdout}`,
        sent: first.sent,
        vanishedLines: [...first.vanishedLines, ...second.vanishedLines],
        skippedDeletes: 0,
      },
      held,
    }
  }

  /** Remembers the missing names of a held run's list; false when every one was held before. */
  function heldAnew (t: Target, list: Uint8Array): boolean {
    let anew = false
    for (const rel of Buffer.from(list).toString('utf8').split('\0')) {
      if (rel === '' || t.heldNames.has(rel) || !isMissing(rel)) continue
      t.heldNames.add(rel)
      anew = true
    }
    return anew
  }

  /** Records that `t` holds `count` more deletions (a mirror's count replaces the sum: it saw them all). */
  function hold (t: Target, job: Job, kind: 'incremental' | 'full', count: number, reason: HoldReason, message: string): number {
    const previous = t.hold
    t.hold = {
      reason: previous?.reason ?? reason,
      message: previous?.message ?? message,
      count: kind === 'full' ? count : (previous?.count ?? 0) + count,
      since: previous?.since ?? now(),
      jobId: job.id,
      confirmed: false,
    }
    settings.set(holdKey(t.def.name), JSON.stringify(t.hold))
    t.log.warn({ jobId: job.id, held: count, total: t.hold.count, reason: t.hold.message }, 'deletions held')
    emit({ type: 'deletes.held', target: t.def.name, hold: t.hold })
    return count
  }

  function releaseHold (t: Target): void {
    if (t.hold === null) return
    t.log.info({ count: t.hold.count, reason: t.hold.reason }, 'held deletions released')
    t.hold = null
    t.heldNames.clear()
    settings.delete(holdKey(t.def.name))
    emit({ type: 'deletes.released', target: t.def.name })
  }

  function withHeldWarning (verdict: Verdict, held: number, t: Target): Verdict {
    if (!verdict.ok || held === 0) return verdict
    const note = `${held} deletions held (${t.hold?.count ?? held} in all on this target): ${t.hold?.message ?? ''}`
    return { ...verdict, warning: verdict.warning === null ? note : `${verdict.warning}; ${note}` }
  }

  /** Keeps the count of entries on the target that the share limit weighs deletions against. */
  function countEntries (t: Target, outcome: RsyncOutcome, kind: 'incremental' | 'full'): void {
    const counts = parseTreeCounts(outcome.stdout)
    if (kind === 'full') {
      if (counts.files === null) return
      t.fileCount = counts.files + (t.hold?.count ?? 0)
      settings.set(filesKey(t.def.name), String(t.fileCount))
    } else if (t.fileCount !== null) {
      t.fileCount = Math.max(0, t.fileCount + counts.created - counts.deleted)
    }
  }

  /**
   * A run may have copied an entry that lived only briefly; if the watcher
   * never reported it, only this check gets it deleted from the target.
   */
  function checkSentLater (t: Target, names: string[]): void {
    if (names.length === 0) return
    const check = { names, timer: setTimeout(() => { sentChecks.delete(check); void checkSent(t.log, names) }, SENT_CHECK_DELAY_MS) }
    sentChecks.add(check)
  }

  async function checkSent (log: Logger, names: string[]): Promise<void> {
    const missing = await missingOf(names).catch((err: unknown) => {
      log.warn({ err }, 'could not check what a run sent against the source')
      return []
    })
    if (missing.length === 0) return
    log.debug({ paths: missing.length }, 'sent entries gone from the source meanwhile; deleting them on the targets')
    recordChanges(missing)
  }

  /** A bug, not an rsync failure: record it and keep the paths, never wedge the target. */
  function crash (t: Target, job: Job, err: unknown): void {
    finishRun(t, job, crashVerdict(t, job, err), null)
  }

  function crashVerdict (t: Target, job: Job, err: unknown): Verdict {
    t.log.error({ err, jobId: job.id }, 'sync run failed unexpectedly')
    return { ok: false, interrupted: false, error: `internal error: ${(err as Error).message}`, stats: { filesTransferred: null, bytesTransferred: null }, retry: 'normal' }
  }

  function finishRun (t: Target, job: Job, verdict: Verdict, exitCode: number | null): void {
    const at = now()
    const batch = t.inFlight
    t.inFlight = null
    const wasFull = t.running?.kind === 'full'
    if (wasFull) t.lastMirror = { ok: verdict.ok, startSeq: t.fullStartSeq }
    if (verdict.ok) {
      const done = jobs.finish(job.id, { status: 'succeeded', exitCode, error: null, warning: verdict.warning, ...verdict.stats, now: at })
      if (batch !== null) {
        journalWriter.remove(t.def.name, [...batch].map(([path, e]) => ({ path, seq: e.seq })))
        if (verdict.vanished !== null) requeueVanished(t, batch, verdict.vanished, at)
      }
      if (wasFull) {
        t.fullFailures = 0
        if (t.droppedFrom !== null && t.droppedTo <= t.fullStartSeq) t.droppedFrom = null
        // The mirror read the source after these changes: they are delivered,
        // even ones an incremental run could not carry (a path the target refuses).
        for (const [p, e] of t.pending) if (e.seq <= t.fullStartSeq) t.pending.delete(p)
        if (t.pending.size === 0) {
          t.firstPendingAt = Infinity
          t.failures = 0
          t.retryAt = null
        }
        journalWriter.removeUpTo(t.def.name, t.fullStartSeq)
        if (t.fullOwedSeq !== null && t.fullOwedSeq <= t.fullStartSeq) {
          t.fullOwedSeq = null
          settings.delete(owedKey(t.def.name))
        }
      } else {
        t.failures = 0
      }
      if (t.failures === 0 && t.fullFailures === 0) t.slowRetry = false
      t.lastSuccessAt = at
      t.log.info({ jobId: job.id, kind: job.kind, paths: job.pathsCount, files: done.filesTransferred, bytes: done.bytesTransferred, ms: done.durationMs, warning: verdict.warning ?? undefined }, 'sync succeeded')
    } else {
      jobs.finish(job.id, { status: verdict.interrupted ? 'interrupted' : 'failed', exitCode, error: verdict.error, warning: null, ...verdict.stats, now: at })
      if (batch !== null) requeueFailed(t, batch, at)
      if (verdict.interrupted) {
        t.log.warn({ jobId: job.id, kind: job.kind }, 'sync interrupted')
      } else {
        const failures = wasFull ? ++t.fullFailures : ++t.failures
        t.slowRetry = verdict.retry === 'slow'
        const delay = t.slowRetry ? options.retry.maxDelayMs : retryDelayMs(failures, options.retry, random)
        if (wasFull) t.fullRetryAt = at + delay
        else t.retryAt = at + delay
        t.lastError = { message: verdict.error, at, jobId: job.id }
        t.log.warn({ jobId: job.id, kind: job.kind, exitCode, error: verdict.error, retryInMs: delay, failures }, 'sync failed')
      }
    }
    t.running = null
    if (wasFull && t.side === null) releaseHeld(t)
    const finished = jobs.get(job.id)!
    if (verdict.ok) {
      for (const b of barriers) {
        if (!b.targets.has(t)) continue
        // A mirror read the whole source; a batch carried the barrier's changes if any entry predates it.
        const carried = batch === null || [...batch.values()].some((e) => e.firstSeq <= b.seq)
        if (carried) b.jobs.add(job.id)
      }
    }
    notify(job.id)
    emit({ type: 'job.finished', job: finished })
    for (const b of barriers) b.check()
    kick(t)
  }

  /** Resolves with the jobs once every one of them has finished. */
  async function waitForJobs (ids: readonly number[]): Promise<Job[]> {
    await Promise.all(ids.map((id) => {
      const job = jobs.get(id)
      if (job === undefined || (job.status !== 'queued' && job.status !== 'running')) return undefined
      return new Promise<void>((resolve) => {
        const list = waiters.get(id) ?? []
        list.push(resolve)
        waiters.set(id, list)
      })
    }))
    return ids.map((id) => jobs.get(id)).filter((j): j is Job => j !== undefined)
  }

  function notify (jobId: number): void {
    const list = waiters.get(jobId)
    if (list === undefined) return
    waiters.delete(jobId)
    for (const resolve of list) resolve()
  }

  function selectTargets (names: readonly string[] | undefined): Target[] {
    if (names === undefined || names.length === 0) return [...targets.values()]
    return names.map((name) => {
      const t = targets.get(name)
      if (t === undefined) throw new SyncplaneError('TARGET_NOT_FOUND', `no target named "${name}"`)
      return t
    })
  }

  function requestFullSync (req: FullSyncRequest): Job[] {
    if (closing) throw new SyncplaneError('ENGINE_CLOSED', 'syncplane is shutting down')
    if (req.trigger === 'api' && blocksRuns(checkSource())) throw new SyncplaneError('SOURCE_UNAVAILABLE', sourceFault!.message)
    const selected = selectTargets(req.targets)
    // Forcing a mirror is how an operator confirms what a target holds back.
    if (req.force === true) confirmHolds(selected)
    return selected.map((t) => {
      if (t.queuedFull !== null) {
        if (req.force === true) t.queuedFull.force = true
        return t.queuedFull.job
      }
      oweFull(t, req.trigger)
      const job = jobs.create({ target: t.def.name, kind: 'full', trigger: req.trigger, status: 'queued', attempt: 1, paths: [], requestedBy: req.requestedBy, now: now() })
      t.queuedFull = { job, force: req.force === true }
      emit({ type: 'job.queued', job })
      queueMicrotask(() => kick(t))
      return job
    })
  }

  function confirmHolds (selected: readonly Target[]): void {
    for (const t of selected) {
      if (t.hold === null || t.hold.confirmed) continue
      t.hold = { ...t.hold, confirmed: true }
      settings.set(holdKey(t.def.name), JSON.stringify(t.hold))
      t.log.warn({ count: t.hold.count }, 'held deletions confirmed; the next full mirror makes them')
    }
    // Once every target let go, the directory now at the source path is the source.
    if (sourceFault !== null && [...targets.values()].every((t) => t.hold === null || t.hold.confirmed)) deps.source?.adopt()
  }

  /** Applies what the source guard found: holds deletions on every target, or lets go of them when the source is back. */
  function sourceChanged (fault: SourceFault | null): void {
    sourceFault = fault
    if (fault !== null) {
      if (!blocksRuns(fault)) {
        const at = now()
        for (const t of targets.values()) {
          if (t.hold !== null) continue
          t.hold = { reason: 'source', message: fault.message, count: 0, since: at, jobId: null, confirmed: false }
          settings.set(holdKey(t.def.name), JSON.stringify(t.hold))
          emit({ type: 'deletes.held', target: t.def.name, hold: t.hold })
        }
      }
      emit({ type: 'watcher.degraded', message: fault.message })
    } else {
      // The replicated directory is back: what its absence looked like deleting was never deleted.
      for (const t of targets.values()) if (t.hold?.reason === 'source' && !t.hold.confirmed) releaseHold(t)
      emit({ type: 'source.restored' })
    }
    for (const t of targets.values()) kick(t)
  }

  function statusOf (t: Target, at: number): TargetStatus {
    let oldest = t.fullOwedSeq === null ? Infinity : t.fullOwedSince
    for (const e of t.pending.values()) if (e.observedAt < oldest) oldest = e.observedAt
    if (t.inFlight !== null) for (const e of t.inFlight.values()) if (e.observedAt < oldest) oldest = e.observedAt
    if (t.side !== null) for (const e of t.side.batch.values()) if (e.observedAt < oldest) oldest = e.observedAt
    const owed = t.pending.size > 0 || t.queuedFull !== null || t.fullOwedSeq !== null
    const failures = Math.max(t.failures, t.fullFailures)
    const retryAt = t.retryAt === null ? t.fullRetryAt : t.fullRetryAt === null ? t.retryAt : Math.min(t.retryAt, t.fullRetryAt)
    const state: TargetState = t.running !== null
      ? 'syncing'
      : failures > 0
        ? (t.slowRetry ? 'failing' : 'retrying')
        : t.hold !== null ? 'held' : owed ? (paused ? 'paused' : 'waiting') : 'idle'
    return {
      name: t.def.name,
      url: t.def.url,
      state,
      pending: t.pending.size,
      inFlight: (t.inFlight?.size ?? 0) + (t.side?.batch.size ?? 0),
      fullSyncPending: t.fullOwedSeq !== null,
      lagMs: oldest === Infinity ? 0 : Math.max(0, at - oldest),
      runningJobId: t.running?.jobId ?? null,
      queuedFullJobId: t.queuedFull?.job.id ?? null,
      consecutiveFailures: failures,
      nextRetryAt: retryAt,
      lastSuccessAt: t.lastSuccessAt,
      lastError: t.lastError,
      deletesHeld: t.hold,
    }
  }

  async function drain (abort: boolean): Promise<void> {
    closing = true
    clearInterval(periodic)
    for (const t of targets.values()) {
      disarm(t)
      if (abort) {
        t.running?.abort.abort()
        t.side?.abort.abort()
      }
    }
    await Promise.all([...targets.values()].flatMap((t) => [t.running?.done, t.side?.done]).concat([...retiring]))
    // The watcher is closed by now, so what is missing is missing: journal it.
    const checks = [...sentChecks]
    sentChecks.clear()
    for (const c of checks) clearTimeout(c.timer)
    await Promise.all(checks.map((c) => checkSent(logger, c.names)))
    const at = now()
    for (const t of targets.values()) {
      if (t.queuedFull !== null) {
        jobs.finish(t.queuedFull.job.id, { status: 'interrupted', exitCode: null, error: 'syncplane stopped before this job started', warning: null, filesTransferred: null, bytesTransferred: null, now: at })
        notify(t.queuedFull.job.id)
        t.queuedFull = null
      }
    }
    // A journal the database did not take is incomplete: the next start must mirror as after a crash.
    if (journalWriter.flush()) settings.set(LIFECYCLE_KEY, 'stopped')
  }

  /** The oldest seq target `t` has not confirmed, or Infinity when it is up to date. */
  function undeliveredFloor (t: Target): number {
    let floor = t.droppedFrom ?? Infinity
    for (const e of t.pending.values()) if (e.firstSeq < floor) floor = e.firstSeq
    if (t.inFlight !== null) for (const e of t.inFlight.values()) if (e.firstSeq < floor) floor = e.firstSeq
    if (t.side !== null) for (const e of t.side.batch.values()) if (e.firstSeq < floor) floor = e.firstSeq
    for (const e of t.held.values()) if (e.firstSeq < floor) floor = e.firstSeq
    return floor
  }

  async function flush (req: FlushRequest): Promise<FlushResult> {
    if (closing) throw new SyncplaneError('ENGINE_CLOSED', 'syncplane is shutting down')
    if (paused) throw new SyncplaneError('WATCH_PAUSED', 'watching is paused: nothing would reach the targets; POST /v1/watch/resume first')
    const selected = new Set(selectTargets(req.targets))
    const startedAt = performance.now()
    if (req.paths !== undefined && req.paths.length > 0) recordChanges(req.paths)
    // Without paths, what was written just before may not be reported yet: the seq below must come after it.
    else if (deps.watcherBarrier !== undefined && !(await passWatcherBarrier(deps.watcherBarrier, req.timeoutMs))) return { done: false, jobs: [] }
    const barrier: Barrier = { seq, targets: selected, jobs: new Set(), check: () => undefined }
    const reached = (): boolean => [...selected].every((t) => undeliveredFloor(t) > barrier.seq)
    if (reached()) return { done: true, jobs: [] }
    for (const t of selected) {
      t.urgent++
      kick(t)
    }
    let timer: NodeJS.Timeout | undefined
    try {
      const done = await new Promise<boolean>((resolve) => {
        barrier.check = () => { if (reached()) resolve(true) }
        barriers.add(barrier)
        timer = setTimeout(() => resolve(false), Math.max(0, req.timeoutMs - (performance.now() - startedAt)))
      })
      return { done, jobs: [...barrier.jobs].map((id) => jobs.get(id)).filter((j): j is Job => j !== undefined) }
    } finally {
      clearTimeout(timer)
      barriers.delete(barrier)
      for (const t of selected) t.urgent--
    }
  }

  function schedulePeriodic (): void {
    clearInterval(periodic)
    periodic = undefined
    if (options.fullSync.intervalSec > 0) {
      periodic = setInterval(() => {
        if (!closing) requestFullSync({ trigger: 'periodic' })
      }, options.fullSync.intervalSec * 1000)
    }
  }

  /**
   * A reloaded configuration. `next` replaces every option at once (a run
   * already going keeps what it started with), so a new group of settings
   * needs no code here. The targets become `defs`: a def that is the very
   * object a target runs with leaves it alone, a new object under a known
   * name changes it in place (its pending changes stay), a name not seen
   * before is added with nothing owed (the caller asks for its first mirror),
   * a name missing is removed.
   */
  function reconfigure (next: EngineOptions, defs: readonly ResolvedTarget[]): Reconfigured {
    if (closing) throw new SyncplaneError('ENGINE_CLOSED', 'syncplane is shutting down')
    // The journal, the lookups and the watch all belong to one source.
    if (next.source !== options.source) throw new Error(`the source cannot change while running (${options.source} → ${next.source})`)
    // Files a dropped pattern kept out never reached any target, and no change will ever name them.
    const excludeDropped = options.excludes.some((p) => !next.excludes.includes(p))
    const intervalChanged = next.fullSync.intervalSec !== options.fullSync.intervalSec
    options = next
    common = commonOf(next)
    if (started && intervalChanged) schedulePeriodic()

    const result: Reconfigured = { added: [], removed: [], changed: [], mirrorOwed: [] }
    const wanted = new Set(defs.map((d) => d.name))
    for (const t of [...targets.values()]) {
      if (wanted.has(t.def.name)) continue
      removeTarget(t)
      result.removed.push(t.def.name)
    }
    for (const def of defs) {
      const t = targets.get(def.name)
      if (t === undefined) {
        targets.set(def.name, newTarget(def))
        result.added.push(def.name)
        continue
      }
      if (excludeDropped) oweFull(t, 'reload')
      if (t.def === def) continue
      const moved = t.def.url !== def.url || !isDeepStrictEqual(t.def.ssh, def.ssh)
      t.def = def
      result.changed.push(def.name)
      // The operator just fixed something (a password, a key): try it now, not after the backoff.
      t.retryAt = null
      t.fullRetryAt = null
      if (moved) {
        // What runs to the old destination is no longer wanted; its changes go to the new one, after a mirror.
        t.running?.abort.abort()
        t.side?.abort.abort()
        oweFull(t, 'reload')
        // The old destination's size and held deletions say nothing of the new one: its first mirror weighs them.
        forgetDestination(t)
      }
      if (moved && !excludeDropped) result.mirrorOwed.push(def.name)
    }
    if (excludeDropped) result.mirrorOwed.push(...defs.map((d) => d.name).filter((n) => !result.added.includes(n)))
    // New batch and retry settings may make a run due sooner (or later).
    for (const t of targets.values()) kick(t)
    for (const b of barriers) b.check()
    return result
  }

  /** Drops a target: its pending changes, owed mirror and queued job go; a running rsync is stopped. */
  function forgetDestination (t: Target): void {
    releaseHold(t)
    t.fileCount = null
    settings.delete(filesKey(t.def.name))
  }

  function removeTarget (t: Target): void {
    t.removed = true
    targets.delete(t.def.name)
    disarm(t)
    const runningJobId = t.running?.jobId ?? null
    for (const run of [t.running, t.side]) {
      if (run === null) continue
      run.abort.abort()
      const ended: Promise<void> = run.done.finally(() => retiring.delete(ended))
      retiring.add(ended)
    }
    if (t.queuedFull !== null) {
      const { id } = t.queuedFull.job
      t.queuedFull = null
      jobs.finish(id, { status: 'interrupted', exitCode: null, error: 'the target was removed from the configuration before this job started', warning: null, filesTransferred: null, bytesTransferred: null, now: now() })
      notify(id)
      emit({ type: 'job.finished', job: jobs.get(id)! })
    }
    const dropped = t.pending.size + (t.inFlight?.size ?? 0) + (t.side?.batch.size ?? 0) + t.held.size
    t.pending.clear()
    t.held.clear()
    t.fullOwedSeq = null
    t.droppedFrom = null
    journalWriter.removeTarget(t.def.name)
    settings.delete(owedKey(t.def.name))
    forgetDestination(t)
    // A flush no longer waits for a target that will never be sent to.
    for (const b of barriers) b.targets.delete(t)
    t.log.info({ droppedPaths: dropped, stoppedJobId: runningJobId }, 'target removed from the configuration; its pending changes are dropped')
  }

  return {
    recordChanges,
    requestFullSync,
    flush,
    sourceChanged,

    /** What a forced full mirror would send and delete on each target (the first `cap` names of each), changing nothing. */
    async previewFullSync (names: readonly string[] | undefined, cap: number): Promise<MirrorPreview[]> {
      if (closing) throw new SyncplaneError('ENGINE_CLOSED', 'syncplane is shutting down')
      if (blocksRuns(checkSource())) throw new SyncplaneError('SOURCE_UNAVAILABLE', sourceFault!.message)
      return Promise.all(selectTargets(names).map((t) => previewMirror({
        target: onLane(t.def, 'main'),
        common: { ...common, compare: options.fullSync.compare },
        runner,
        cap,
        deadlineMs: options.fullSync.deadlineSec * 1000,
        killGraceMs: options.rsync.killGraceSec * 1000,
      })))
    },

    /**
     * An operator confirms the deletions target `name` holds: a forced full
     * mirror makes them. `expected` guards against confirming a count that
     * changed since it was read.
     */
    confirmDeletes (name: string, opts: { expected?: number | undefined, requestedBy?: string | undefined } = {}): { hold: DeleteHold, job: Job } {
      const t = selectTargets([name])[0]!
      if (t.hold === null) throw new SyncplaneError('NO_DELETES_HELD', `target "${name}" holds no deletions`)
      if (opts.expected !== undefined && opts.expected !== t.hold.count) {
        throw new SyncplaneError('DELETES_CHANGED', `target "${name}" now holds ${t.hold.count} deletions, not ${opts.expected}; preview again`)
      }
      const [job] = requestFullSync({ targets: [name], trigger: 'api', force: true, requestedBy: opts.requestedBy })
      return { hold: t.hold, job: job! }
    },

    /** Job and watcher events, for live streams and metrics. Returns the unsubscribe function. */
    subscribe (listener: (event: EngineEvent) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    /** Starts syncing; call once the watcher is established, so no mirror runs ahead of the watch. */
    start (): void {
      started = true
      schedulePeriodic()
      for (const t of targets.values()) kick(t)
    },

    reconfigure,

    /** The watcher may have missed events: only a full mirror can repair that. */
    watcherDegraded (message: string): void {
      if (closing) return
      logger.warn({ reason: message }, 'watcher degraded; scheduling a full mirror of every target')
      emit({ type: 'watcher.degraded', message })
      requestFullSync({ trigger: 'watcher' })
    },

    /** Stops syncing watched changes; they keep being recorded. Idempotent. */
    pause (): boolean {
      const changed = !paused
      paused = true
      settings.set(PAUSED_KEY, '1')
      for (const t of targets.values()) disarm(t)
      if (changed) {
        logger.info('watching paused')
        emit({ type: 'watch.paused' })
      }
      return changed
    },

    /** Replicates everything recorded while paused. Idempotent. */
    resume (): boolean {
      const changed = paused
      paused = false
      settings.set(PAUSED_KEY, '0')
      if (changed) {
        logger.info('watching resumed')
        emit({ type: 'watch.resumed' })
        for (const t of targets.values()) {
          if (t.pending.size > 0) t.nextTrigger = 'resume'
          kick(t)
        }
      }
      return changed
    },

    waitForJobs,

    /**
     * Waits up to `timeoutMs` for queued full mirrors; says which of their
     * targets hold deletions afterwards (the mirror left those undone).
     */
    async waitForFullSync (queued: readonly Job[], timeoutMs: number): Promise<{ done: boolean, jobs: Job[], deletesHeld: Array<{ target: string, count: number, message: string }> }> {
      let timer: NodeJS.Timeout | undefined
      const done = await Promise.race([
        waitForJobs(queued.map((j) => j.id)).then(() => true),
        new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs) }),
      ])
      clearTimeout(timer)
      const deletesHeld = [...new Set(queued.map((j) => j.target))].flatMap((name) => {
        const h = targets.get(name)?.hold
        return h === undefined || h === null || h.confirmed ? [] : [{ target: name, count: h.count, message: h.message }]
      })
      return { done, jobs: queued.map((j) => jobs.get(j.id) ?? j), deletesHeld }
    },

    status (): EngineStatus {
      const at = now()
      const w = deps.watcherStatus()
      return {
        watcher: { state: paused && w.state !== 'stopped' ? 'paused' : w.state, lastError: w.lastError },
        sourceFault,
        paused,
        targets: [...targets.values()].map((t) => statusOf(t, at)),
      }
    },

    /** Stops starting runs and waits for the running ones to finish. */
    close (): Promise<void> {
      return drain(false)
    },

    /** Stops every running rsync (SIGTERM, then SIGKILL); their jobs end `interrupted`, their paths stay pending. */
    destroy (): Promise<void> {
      return drain(true)
    },
  }
}
