/** What every watcher backend reports: paths relative to the source, `/`-separated. */

/** `rename`: the kernel named an entry that was created, deleted or moved, type unknown. */
export type ChangeKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir' | 'rename'

export interface Change {
  path: string
  kind: ChangeKind
}

/**
 * Every watcher state the API and the metrics show, in the order they list
 * them; the one list their schema and gauge derive from. `starting` until
 * the initial watch is established, `degraded` once the backend reported an
 * error that may have cost events (e.g. the inotify watch limit); only a
 * full resync repairs what a degraded watcher missed. `paused` is never a
 * backend's own: the engine shows it while it holds changes back.
 */
export const WATCHER_STATES = ['starting', 'running', 'paused', 'degraded', 'stopped'] as const

/** A state as /v1/status shows it. */
export type ShownWatcherState = typeof WATCHER_STATES[number]

/** A state as a backend reports it (and the readiness probe shows it). */
export type WatcherState = Exclude<ShownWatcherState, 'paused'>

/** The states a backend reports: every one but `paused`, in the same order. */
export const BACKEND_WATCHER_STATES = WATCHER_STATES.filter((s): s is WatcherState => s !== 'paused')

export interface WatcherStatus {
  state: WatcherState
  /** The latest backend error, with what an operator can do about it. */
  lastError: string | null
}

export interface Watcher {
  /** Resolves once the tree is being watched. */
  start (): Promise<void>
  status (): WatcherStatus
  /**
   * Resolves once every change made before the call has been handed to the
   * sink (see flush-sentinel.ts for how, and where only a fixed wait is
   * possible); rejects with the signal's reason when it aborts first.
   */
  barrier (signal: AbortSignal): Promise<void>
  close (): Promise<void>
  /** A reloaded configuration: the patterns apply to changes seen from now on. */
  reconfigure (settings: WatcherSettings): void
  /**
   * Watches the directory now at the root path (another volume mounted, the
   * root replaced) in place of the old one. Only a backend that cannot be
   * made anew has it (the thread's: parcel's addon loads in one thread per
   * process); the others are closed and made again.
   */
  restart? (): Promise<void>
  /**
   * Directories the caller expects watched (relative; `deep`: every
   * directory below too, otherwise two levels below it): one that no
   * watch covers gets one again and is reported, so what was written there
   * meanwhile is looked at. parcel's inotify backend loses the watch of a
   * directory now and then where directories are renamed at speed
   * (docs/watchers.md); a backend that cannot tell does nothing.
   */
  checkWatches? (dirs: readonly WatchCheck[]): void
}

export interface WatchCheck { dir: string, deep: boolean }

export interface WatcherSettings {
  excludes: readonly string[]
  /** For a watcher thread, whose logger is its own (the service's loggers follow the root's level). */
  logLevel: string
}

export interface WatcherSink {
  /** Called once per event-loop turn with every change seen in it. */
  onChanges (changes: Change[]): void
  /** Called when the backend reports a problem that may have lost events. */
  onDegraded (message: string): void
}
