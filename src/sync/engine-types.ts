import type { Logger } from 'pino'
import type { Job, JobStore, JobTrigger } from '../db/job-store.js'
import type { PendingStore } from '../db/pending-store.js'
import type { SettingsStore } from '../db/settings-store.js'
import type { FullCompare } from '../rsync/args.js'
import type { RsyncRunner } from '../rsync/runner.js'
import type { SourceFault } from '../watcher/source-identity.js'
import type { ShownWatcherState, WatcherStatus } from '../watcher/watcher.js'
import type { BackoffOptions } from './backoff.js'
import type { DeleteGuardOptions, DeleteHold } from './delete-guard.js'
import type { JournalWriter } from './journal-writer.js'
import type { SourceLookup } from './source-lookup.js'
import type { ResolvedTarget } from './targets.js'
import type { TargetState } from './target-state.js'
import type { WatcherBarrier } from './watcher-barrier.js'

/** The engine's public contracts: what callers pass in and what they read back. */

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

/** The timer functions the engine schedules with; unit tests pass a clock they move by hand. */
export interface EngineTimers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
  setInterval (fn: () => void, ms: number): unknown
  clearInterval (handle: unknown): void
}

export const realEngineTimers: EngineTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
}

export interface EngineDeps {
  options: EngineOptions
  targets: readonly ResolvedTarget[]
  jobs: JobStore
  /** The journal's table (the store is called `pending` after it). */
  pending: PendingStore
  /** Writes the journal behind the engine (the service's retries while the database fails); a plain one over `pending` by default. */
  journalWriter?: JournalWriter
  settings: SettingsStore
  runner: RsyncRunner
  logger: Logger
  watcherStatus: () => WatcherStatus
  now?: () => number
  random?: () => number
  /** Batching, backoff, sent checks, flush timeouts and the periodic mirror; the real ones by default. */
  timers?: EngineTimers
  /** Large lookups on the source, off the event loop (the service passes its lookup thread); libuv's pool by default. */
  lookup?: SourceLookup
  source?: SourceCheck
  /** Resolves once the watcher reported every change made before the call: a flush without paths waits for it. */
  watcherBarrier?: WatcherBarrier
}

export interface TargetStatus {
  name: string
  url: string
  state: TargetState
  /** Paused on its own by an operator, apart from the global pause. */
  paused: boolean
  /** Changes in the backlog, not yet in a run. */
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
  watcher: { state: ShownWatcherState; lastError: string | null }
  /** Null while the source is the directory that was replicated. */
  sourceFault: SourceFault | null
  paused: boolean
  targets: TargetStatus[]
}

/** A request for a full mirror (the API's "resync"). */
export interface FullSyncRequest {
  targets?: readonly string[] | undefined
  trigger: JobTrigger
  requestedBy?: string | undefined
  /** Mirror even when the source is empty and the target is not. */
  force?: boolean | undefined
}

export type EngineEvent =
  | { type: 'job.queued' | 'job.started' | 'job.finished'; job: Job }
  | { type: 'watch.paused' | 'watch.resumed' }
  | { type: 'target.paused' | 'target.resumed'; target: string }
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
