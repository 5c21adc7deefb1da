import { readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { ApplyBatch } from './apply-batch.js'
import type { ApplyingJournal } from './applying-journal.js'
import type { EntryOutcome, Manifest } from './manifest.js'
import { meshDir } from './tree-fs.js'

/** Entries applied per event-loop turn, so a large batch never holds the loop (and the probes) long. */
const APPLY_SLICE = 250

export interface ReceiveDeps {
  root: string
  applier: ApplyBatch
  /** A source fault: nothing is applied into whatever is at the root now. */
  sourceFault: () => string | null
  /** Local changes reported meanwhile are looked at before each slice (they must meet the peer's versions as versions). */
  beforeSlice: () => void
  /** One transaction per slice (each entry's own becomes a savepoint in it): a commit per entry cost more than the entry. */
  transaction: <T>(fn: () => T) => T
  /** Each slice is noted before it touches the tree (a crash between its files and its commit is recovered at start). */
  journal: ApplyingJournal
  /** Removes a staging directory no longer needed; at once by default (the service removes them off the event loop: staging-remover.ts). */
  discard?: (dir: string) => void
}

const removeNow = (dir: string): void => rmSync(dir, { recursive: true, force: true })

/**
 * A peer's batch, its staged files taken from
 * `.syncplane/staging/<from>/<batch>/` and the directory removed after.
 */
export async function receiveBatch (deps: ReceiveDeps, manifest: Manifest): Promise<EntryOutcome[]> {
  const staging = path.join(meshDir(deps.root, 'staging'), manifest.from, manifest.batch)
  const discard = deps.discard ?? removeNow
  // A sender has one batch in flight: any other of its staged batches was left by a failure (its entries are still owed).
  const needed = deps.journal.needed()
  for (const name of listDir(path.dirname(staging))) {
    const dir = path.join(path.dirname(staging), name)
    // Not one a note still needs (a commit that failed, kept for the recovery at start).
    if (name !== manifest.batch && !needed.has(path.relative(deps.root, dir))) discard(dir)
  }
  if (deps.sourceFault() !== null) {
    // Not into whatever is at the root now (a bare mount point): the sender keeps it owed until the tree is back.
    discard(staging)
    return manifest.entries.map(() => 'retry')
  }
  const outcomes: EntryOutcome[] = []
  let unsettled = false
  try {
    for (let i = 0; i < manifest.entries.length; i += APPLY_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve))
      deps.beforeSlice()
      const entries = manifest.entries.slice(i, i + APPLY_SLICE)
      const note = deps.journal.begin(staging, entries)
      try {
        outcomes.push(...deps.transaction(() => {
          const done = deps.applier.apply({ ...manifest, entries }, staging, note.staged)
          deps.journal.end(note.id)
          return done
        }))
      } catch (err) {
        // The commit failed after files were put in place: recorded now from the note, while the staged copies
        // still tell what was consumed; failing that, the staging directory stays for the recovery at start.
        unsettled = true
        deps.journal.recover()
        unsettled = false
        throw err
      }
    }
  } finally {
    if (!unsettled) discard(staging)
  }
  return outcomes
}

/**
 * Whether this node is taking peers' batches: one is being applied, or one
 * ended less than `quietMs` ago (in a burst a peer's batches come about once
 * a second each, a push and then its apply). The intake's read again waits.
 */
export function createReceiving (now: () => number, quietMs = 1_000) {
  let applying = 0
  let lastEnded = -Infinity
  return {
    async during<T> (apply: () => Promise<T>): Promise<T> {
      applying++
      try {
        return await apply()
      } finally {
        applying--
        lastEnded = now()
      }
    },
    busy: (): boolean => applying > 0 || now() - lastEnded < quietMs,
  }
}

function listDir (dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
