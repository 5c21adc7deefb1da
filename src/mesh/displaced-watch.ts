import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { HybridClock } from './clock.js'
import type { LocalChanges } from './local-changes.js'
import { conflictCopyPath } from './conflict-rule.js'
import { meshPathProblem } from './mesh-paths.js'
import type { OpenForWrite } from './open-writers.js'
import { freshName, isGone, lookAt, makeParents, meshDir, moveToTrash, placeIfAbsent, sameKey } from './tree-fs.js'

/** The least time a displaced file is held before the trash, even when no writer is seen (/proc may not show them all). */
export const DISPLACED_CHECK_MS = 5_000
/** How often a displaced file a process still has open for writing is looked at again. */
export const WRITER_RECHECK_MS = 1_000

/** How the file left the tree: replaced by a peer's version, or removed by a peer's deletion. */
export type HeldKind = 'replaced' | 'deleted'
/** A note's kinds: a held file's, or `moving` (a local version on its way to its conflict copy, put back if a stop cuts that short). */
type NoteKind = HeldKind | 'moving'
/** The stat the file had when last scanned: any other means it was written since it was displaced. */
export interface HeldKey { size: number | null, mtimeNs: string | null, ino: string | null }
interface Held { file: string, rel: string, kind: HeldKind, key: HeldKey, due: number }

export interface DisplacedWatchOptions {
  root: string
  self: string
  clock: HybridClock
  local: LocalChanges
  logger: Logger
  /** Runs `pass` after `ms` (the mesh's timers, cleared when it closes; tests run them by hand). */
  later: (pass: () => Promise<void>, ms: number) => void
  /** Which held files a process has open for writing (open-writers.ts); null: cannot be told, time alone decides. */
  openForWrite: OpenForWrite
  /** True while the source is faulted (unmounted, replaced): held files then look gone, and are left alone, not released. */
  suspended?: () => boolean
  /** The least time a file is held, and how often one a writer holds is looked at again (tests shorten them). */
  timing?: { windowMs: number, recheckMs: number }
  now?: () => number
}

export type DisplacedWatch = ReturnType<typeof createDisplacedWatch>

/**
 * Local files a peer's version or deletion took out of the tree, held under
 * .syncplane/displaced/ before the trash: an application that opened one
 * before it left may still write into it, and those bytes are an upload.
 * Written since (its stat moved), a replaced file becomes a conflict copy and
 * a deleted one goes back to its path (update against delete): both then are
 * local versions. Only a file that no process has open for writing, whose
 * stat is still the one last scanned and that was held at least `windowMs`
 * goes to the trash; a writer may pause for any time. Where /proc cannot be
 * read, the window alone decides (the check it replaced).
 *
 * Each held file has a note beside it (`<file>.hold`: its path and stat),
 * written before the file is moved there (reserve()), so one displaced
 * before a restart or crash is held again, not trashed unchecked.
 */
export function createDisplacedWatch (opts: DisplacedWatchOptions) {
  const { root, self, clock, local, logger } = opts
  const now = opts.now ?? Date.now
  const { windowMs, recheckMs } = opts.timing ?? { windowMs: DISPLACED_CHECK_MS, recheckMs: WRITER_RECHECK_MS }
  const held = new Map<string, Held>()
  /** The notes reserve() wrote, by file, until hold() or unreserve(): one that says the same is not written again. */
  const reserved = new Map<string, string>()
  let passes: Promise<void> = Promise.resolve()
  let timerSet = false
  let lastPass = -Infinity
  let closed = false
  const abs = (rel: string): string => path.join(root, rel)
  const noteOf = (file: string): string => `${file}.hold`

  function release (h: Held): void {
    held.delete(h.file)
    try {
      unlinkSync(noteOf(h.file))
    } catch (err) {
      if (!isGone(err)) throw err
    }
  }

  /** Written after it was displaced: those bytes are a local version, kept under a copy name or back at their path. */
  function keepWritten (h: Held): void {
    const made = makeParents(root, h.rel)
    let kept = h.rel
    if (h.kind === 'replaced' || !placeIfAbsent(h.file, abs(kept))) {
      kept = conflictCopyPath(h.rel, { hlc: clock.tick(), origin: self })
      if (!placeIfAbsent(h.file, abs(kept))) throw new Error(`${kept} exists`)
    }
    unlinkSync(h.file)
    release(h)
    logger.warn({ path: h.rel, kept }, h.kind === 'replaced'
      ? 'a file was written while a peer\'s version replaced it: the written bytes are kept as a conflict copy'
      : 'a file was written while a peer\'s deletion removed it: the written bytes are kept')
    local.scan([...made, kept])
  }

  /**
   * One held file, looked at now. `writers`: the pass's reading of /proc, done
   * before this stat (a writer that closed before it left its bytes in the
   * stat); undefined when the file was not in it (held meanwhile, or now).
   */
  function look (h: Held, writers: Set<string> | null | undefined, at: number): void {
    try {
      const seen = lookAt(h.file)
      if (seen === null) {
        release(h)
        return
      }
      if (seen.type !== 'file' || !sameKey(seen.key, h.key)) {
        keepWritten(h)
        return
      }
      if (writers === undefined || at < h.due) return
      if (writers?.has(h.file) === true) {
        h.due = at + recheckMs
        return
      }
      moveToTrash(root, h.file)
      release(h)
    } catch (err) {
      // Kept where it is, looked at again: never lost to an error.
      h.due = at + recheckMs
      logger.warn({ err, path: h.rel, held: h.file }, 'a displaced file could not be settled; it stays in .syncplane/displaced')
    }
  }

  async function pass (): Promise<void> {
    if (closed || held.size === 0) return
    // Looked at again once the fault clears (the next pass is scheduled as always).
    if (opts.suspended?.() === true) return
    const files = [...held.keys()]
    let writers: Set<string> | null
    try {
      writers = await opts.openForWrite(files)
    } catch (err) {
      logger.warn({ err }, 'could not tell which displaced files are open for writing; they stay held')
      writers = new Set(files)
    }
    if (closed) return
    const at = now()
    lastPass = at
    const read = new Set(files)
    for (const h of [...held.values()]) look(h, read.has(h.file) ? writers : undefined, at)
  }

  /** One pass at a time, each after the one before. */
  function run (): Promise<void> {
    passes = passes.then(pass).catch((err) => logger.warn({ err }, 'a pass over the displaced files failed')).finally(schedule)
    return passes
  }

  /**
   * The next pass when the first held file is due, but not sooner than
   * `recheckMs` after the last one: a burst of replacements, each due at its
   * own millisecond, costs one reading of /proc per interval, not one each.
   */
  function schedule (): void {
    if (closed || timerSet || held.size === 0) return
    let first = Infinity
    for (const h of held.values()) first = Math.min(first, h.due)
    const due = Math.max(first, lastPass + recheckMs)
    timerSet = true
    opts.later(() => {
      timerSet = false
      return run()
    }, Math.max(0, due - now()))
  }

  function writeNote (file: string, rel: string, kind: NoteKind, key: HeldKey): string {
    const note = JSON.stringify({ rel, kind, key: { size: key.size, mtimeNs: key.mtimeNs, ino: key.ino } })
    if (reserved.get(file) !== note) writeFileSync(noteOf(file), note)
    reserved.delete(file)
    return note
  }

  /** A local version a stop caught on its way to its conflict copy goes back to its path (or a copy of its own if one is there). */
  function putBack (file: string, rel: string): void {
    const made = makeParents(root, rel)
    let kept = rel
    if (!placeIfAbsent(file, abs(kept))) {
      kept = conflictCopyPath(rel, { hlc: clock.tick(), origin: self })
      if (!placeIfAbsent(file, abs(kept))) throw new Error(`${kept} exists`)
    }
    unlinkSync(file)
    unlinkSync(noteOf(file))
    logger.warn({ path: rel, kept }, 'a local file was being kept as a conflict copy when syncplane stopped: it is back in the tree')
    local.scan([...made, kept])
  }

  function add (h: Held): void {
    held.set(h.file, h)
    look(h, undefined, now())
    schedule()
  }

  /**
   * `file` (in .syncplane/displaced/) was the local file `rel` with the stat
   * `key`, taken out of the tree by a peer's version or deletion: looked at
   * now (written since the scan: kept at once), then held as above.
   */
  function hold (file: string, rel: string, key: HeldKey, kind: HeldKind): void {
    const h: Held = { file, rel, kind, key: { size: key.size, mtimeNs: key.mtimeNs, ino: key.ino }, due: now() + windowMs }
    writeNote(file, rel, kind, h.key)
    add(h)
  }

  /**
   * A new name under .syncplane/displaced/ for the local file `rel`, its
   * note written first: a crash after the move finds the note. `named`:
   * the name's stem. Then: hold() it, or unreserve() it when the move did
   * not happen or the file left again (a conflict copy put in place).
   */
  function reserve (rel: string, key: HeldKey, kind: NoteKind, named = path.basename(rel)): string {
    const file = freshName(meshDir(root, 'displaced'), named)
    reserved.set(file, writeNote(file, rel, kind, key))
    return file
  }

  return {
    hold,
    reserve,

    /** The local file `rel` (with the stat `key`) taken out of the tree now, into .syncplane/displaced/, and held. */
    setAside (rel: string, key: HeldKey, kind: HeldKind): void {
      const file = reserve(rel, key, kind)
      renameSync(path.join(root, rel), file)
      hold(file, rel, key, kind)
    },

    unreserve (file: string): void {
      reserved.delete(file)
      try {
        unlinkSync(noteOf(file))
      } catch (err) {
        if (!isGone(err)) throw err
      }
    },

    /** At start: the displaced files a stop or crash left, held again from their notes. */
    adopt (): void {
      const dir = meshDir(root, 'displaced')
      let names: string[]
      try {
        names = readdirSync(dir)
      } catch {
        return
      }
      const present = new Set(names)
      for (const name of names) {
        const file = path.join(dir, name)
        if (present.has(`${name}.hold`)) {
          try {
            const note = JSON.parse(readFileSync(noteOf(file), 'utf8')) as { rel: string, kind: NoteKind, key: HeldKey }
            if (meshPathProblem(note.rel) !== null || !['replaced', 'deleted', 'moving'].includes(note.kind)) throw new Error('not a note')
            if (note.kind === 'moving') putBack(file, note.rel)
            else add({ file, rel: note.rel, kind: note.kind, key: note.key, due: now() + windowMs })
            continue
          } catch (err) {
            logger.warn({ err, held: file }, 'a displaced file\'s note is unreadable; the file goes to the trash')
            moveToTrash(root, noteOf(file))
          }
        } else if (name.endsWith('.hold') && present.has(name.slice(0, -'.hold'.length))) {
          continue
        }
        // Without a note (displaced the instant before a crash, or by an older syncplane; or a note whose file was
        // settled then), there is no path to go back to: the trash, never away.
        logger.warn({ held: file }, 'a file displaced before the last stop, without its note, goes to the trash')
        moveToTrash(root, file)
      }
    },

    /** Every held file looked at now (a flush: what was written into one is kept, and sent, before it answers). */
    checkNow: run,

    /** Displaced files not settled yet: the node is not idle while there are any. */
    count: (): number => held.size,

    /** Stops looking; what is held stays on disk, with its notes, for the next start. */
    close (): void {
      closed = true
    },
  }
}
