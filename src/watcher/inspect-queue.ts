import type { Stats } from 'node:fs'

/** A directory reported as updated that was born this recently was replaced, not modified. */
const MADE_AGAIN_MS = 10_000

/** Entries looked up at once; the rest wait for the next slice. */
const SLICE = 2_000

/** New directories inspected at once. */
const DIRECTORIES_AT_ONCE = 32

export interface InspectQueueOptions {
  /** lstat of absolute paths, undefined where none. */
  lookUp: (paths: readonly string[]) => Promise<Array<Stats | undefined>>
  /** What a new directory found among them gets (see subtree-watches.ts). */
  inspectDirectory: (abs: string) => Promise<void>
}

/**
 * The new entries parcel reported, looked up to find the directories among
 * them. A burst reports thousands at once: they are looked up a slice at a
 * time, and the few directories among them inspected a few at a time, so
 * neither the event loop nor libuv's threads are swamped.
 */
export function createInspectQueue ({ lookUp, inspectDirectory }: InspectQueueOptions) {
  let closed = false
  let toInspect: string[] = []
  /** Queued for an `update`: among them, only a directory made just now is new. */
  const updatedOnly = new Set<string>()
  let inspecting = false
  /** Entries ever queued for a look, and looked at (in order): what a barrier waits on. */
  let inspectQueued = 0
  let inspectDone = 0
  let inspectWaiters: Array<{ upTo: number; resolve: () => void }> = []

  const inspectSlice = async (slice: string[]): Promise<void> => {
    const stats = await lookUp(slice)
    const dirs = slice.filter((abs, i) => {
      const wasUpdate = updatedOnly.delete(abs)
      const st = stats[i]
      if (st?.isDirectory() !== true) return false
      // Where the filesystem keeps no birth time (0), a replaced directory
      // still has a fresh mtime, and a chmod leaves it old.
      return !wasUpdate || Date.now() - (st.birthtimeMs || st.mtimeMs) < MADE_AGAIN_MS
    })
    for (let i = 0; i < dirs.length && !closed; i += DIRECTORIES_AT_ONCE) await Promise.all(dirs.slice(i, i + DIRECTORIES_AT_ONCE).map(inspectDirectory))
  }

  const next = (): void => {
    if (inspecting || toInspect.length === 0 || closed) return
    inspecting = true
    const slice = toInspect.length <= SLICE ? toInspect : toInspect.slice(0, SLICE)
    toInspect = toInspect.length <= SLICE ? [] : toInspect.slice(SLICE)
    void inspectSlice(slice).finally(() => {
      inspecting = false
      inspectDone += slice.length
      const due = inspectWaiters.filter((w) => w.upTo <= inspectDone)
      inspectWaiters = inspectWaiters.filter((w) => w.upTo > inspectDone)
      for (const w of due) w.resolve()
      next()
    })
  }

  return {
    /** Queues `abs`, reported created, or updated (`updated`: then only a directory made just now is new); next() looks at it. */
    add (abs: string, updated: boolean): void {
      if (updated) updatedOnly.add(abs)
      toInspect.push(abs)
      inspectQueued++
    },

    /** Looks at the next slice, unless one is under way (which looks at the next when it is done). */
    next,

    /** Resolves once every entry queued before the call was looked at; undefined when there is nothing to wait for. */
    looked (): Promise<void> | undefined {
      const upTo = inspectQueued
      if (inspectDone >= upTo || closed) return undefined
      return new Promise<void>((resolve) => inspectWaiters.push({ upTo, resolve }))
    },

    /** Nothing more is looked at; whoever waits is released. */
    close (): void {
      closed = true
      for (const w of inspectWaiters) w.resolve()
      inspectWaiters = []
    },
  }
}
