import type { DatabaseHealthReporter } from './database-health.js'
import type { SettingsStore, SettingsTable } from './settings-store.js'
import { createWriteRetry, type RetryTuning } from './write-retry.js'

export interface ResilientSettingsOptions extends RetryTuning {
  health: DatabaseHealthReporter
}

/**
 * Settings that survive a failing database: a write that fails is kept in
 * memory, answered from there, and written again after a wait. Only the
 * last value of a key matters, so the backlog is one entry per key, and it
 * is written in one transaction: the lifecycle mark of a clean stop must
 * not land without the owed mirrors written before it.
 */
export function createResilientSettings (table: SettingsTable, opts: ResilientSettingsOptions) {
  /** Values not written yet; null for a delete. */
  const unsaved = new Map<string, string | null>()

  const retry = createWriteRetry({
    writer: 'settings',
    doing: 'writing settings',
    health: opts.health,
    write: () => {
      if (unsaved.size > 0) table.writeAll(unsaved)
      unsaved.clear()
      return true
    },
    budget: Infinity,
    tuning: opts,
  })

  const write = (key: string, value: string | null): void => {
    if (unsaved.size === 0) {
      try {
        if (value === null) table.delete(key)
        else table.set(key, value)
        return
      } catch (err) {
        unsaved.set(key, value)
        retry.failed(err)
        return
      }
    }
    // A retry is waiting: this goes with it, after what is already kept.
    unsaved.delete(key)
    unsaved.set(key, value)
  }

  const settings: SettingsStore & { flush (): boolean } = {
    get (key: string): string | undefined {
      if (unsaved.has(key)) return unsaved.get(key) ?? undefined
      return table.get(key)
    },
    set (key: string, value: string): void {
      write(key, value)
    },
    delete (key: string): void {
      write(key, null)
    },
    /** Shutdown: one last attempt, no timer left behind; false when something stayed unwritten. */
    flush (): boolean {
      return retry.flush()
    },
  }
  return settings
}
