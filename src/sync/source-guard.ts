import type { Logger } from 'pino'
import type { SettingsStore } from '../db/settings-store.js'
import { judgeSource, markerPresent, readRootIdentity, type RootIdentity, type SourceFault } from '../watcher/source-identity.js'

export interface SourceGuardOptions {
  root: string
  marker: string | null
  settings: SettingsStore
  logger: Logger
  /** How often the root is looked at between runs (every run looks too). */
  pollMs: number
  /** Called when the verdict changes, with the directory now at the path (null: none). */
  onChange: (fault: SourceFault | null, current: RootIdentity | null) => void
}

export type SourceGuard = ReturnType<typeof createSourceGuard>

const IDENTITY_KEY = 'source.identity'

/**
 * Binds replication to the source directory it started with, across restarts
 * too (a volume that did not mount at boot is caught before the first
 * mirror), and says when the path no longer holds that directory.
 */
export function createSourceGuard (opts: SourceGuardOptions) {
  const { root, marker, settings, logger } = opts
  let known: RootIdentity | null = null
  let sameBoot = false
  let verdict: SourceFault | null = null
  let timer: NodeJS.Timeout | undefined

  function remember (identity: RootIdentity): void {
    known = identity
    sameBoot = true
    settings.set(IDENTITY_KEY, JSON.stringify(identity))
  }

  function check (): SourceFault | null {
    if (known === null) return null
    const current = readRootIdentity(root)
    const next = judgeSource({ root, marker, known, current, hasMarker: marker === null || markerPresent(root, marker), sameBoot })
    // The first look after a restart matched: from now on the device counts too.
    if (!sameBoot && current !== null && next === null) remember(current)
    if (next?.message !== verdict?.message) {
      const previous = verdict
      verdict = next
      if (next === null) logger.info({ previous: previous?.kind }, 'the source is back to the replicated directory')
      else logger.error({ fault: next.kind, reason: next.message }, 'source fault')
      opts.onChange(next, current)
    }
    return verdict
  }

  return {
    check,

    current (): SourceFault | null {
      return verdict
    },

    /** Reads the identity the previous run stored (or takes the present one), then looks every `pollMs`. */
    start (): void {
      if (known !== null) return
      const stored = settings.get(IDENTITY_KEY)
      const current = readRootIdentity(root)
      if (stored !== undefined) {
        known = JSON.parse(stored) as RootIdentity
      } else if (current !== null) {
        remember(current)
      }
      check()
      timer = setInterval(check, opts.pollMs)
      timer.unref()
    },

    /** An operator confirmed the directory now at the path: it becomes the replicated one. */
    adopt (): void {
      const current = readRootIdentity(root)
      if (current === null) return
      logger.warn({ ino: current.ino, mountPoint: current.mountPoint }, 'the directory now at the source path is adopted as the source')
      remember(current)
      check()
    },

    close (): void {
      clearInterval(timer)
    },
  }
}
