import type { Logger } from 'pino'
import type { JobStore } from '../db/job-store.js'
import type { SettingsStore } from '../db/settings-store.js'
import type { RsyncRunner } from '../rsync/runner.js'
import type { EngineEvent, EngineOptions, EngineTimers } from './engine-types.js'
import type { JournalWriter } from './journal-writer.js'
import type { TargetRuntime } from './target-runtime.js'

/**
 * What the parts of one engine share: its stores and seams, and the little
 * mutable state that is the engine's rather than a target's. Made once by
 * createSyncEngine and handed to each part; never module state.
 */
export interface EngineContext {
  readonly jobs: JobStore
  readonly settings: SettingsStore
  readonly runner: RsyncRunner
  readonly logger: Logger
  /** Writes the pending journal behind the in-memory backlog. */
  readonly journal: JournalWriter
  readonly now: () => number
  readonly random: () => number
  readonly timers: EngineTimers
  /** Replaced wholesale by reconfigure(): read it at use, never keep a part of it. */
  options: EngineOptions
  /** The last number handed out by the engine-wide change sequence (see target-runtime.ts). */
  seq: number
  /** By name; reconfigure() adds and removes. */
  readonly targets: Map<string, TargetRuntime>
  emit (event: EngineEvent): void
}
