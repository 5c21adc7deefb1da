import type { PendingStore } from '../db/pending-store.js'
import { parseHold } from './delete-guard.js'
import type { EngineContext } from './engine-context.js'
import { filesKey, holdKey, LIFECYCLE_KEY, owedKey } from './settings-keys.js'

/**
 * Picking up what the previous process left: its journal, owed mirrors, held
 * deletions, the size of each target, and whether it crashed. Reading it is
 * done when the engine is made (so its status is right from the first
 * request); what recovery writes waits until the engine is used (start(), a
 * mirror asked for, a reload, close()): a factory has no side effects.
 */
export function createRecovery (ctx: EngineContext, journalTable: PendingStore) {
  const { settings, logger } = ctx
  const at = ctx.now()
  const previousRunCrashed = settings.get(LIFECYCLE_KEY) === 'running'
  const unknownTargets = new Set<string>()

  for (const t of ctx.targets.values()) {
    const owed = settings.get(owedKey(t.def.name))
    if (owed !== undefined) ctx.seq = Math.max(ctx.seq, Number(owed))
    t.hold = parseHold(settings.get(holdKey(t.def.name)))
    const files = settings.get(filesKey(t.def.name))
    t.fileCount = files === undefined ? null : Number(files)
  }
  let restored = 0
  for (const row of journalTable.loadAll()) {
    const t = ctx.targets.get(row.target)
    if (t === undefined) {
      unknownTargets.add(row.target)
      continue
    }
    t.backlog.set(row.path, { seq: row.seq, firstSeq: row.seq, observedAt: row.observedAt })
    t.firstPendingAt = Math.min(t.firstPendingAt, at)
    restored++
  }
  if (restored > 0) logger.info({ paths: restored }, 'restored pending changes from the journal')
  for (const t of ctx.targets.values()) {
    // A mirror still owed, or one the crash makes owed: it covers every change seen so far.
    if (settings.get(owedKey(t.def.name)) !== undefined || (previousRunCrashed && ctx.options.fullSync.afterCrash)) {
      t.owedMirrorSeq = ++ctx.seq
      t.owedMirrorTrigger = 'recovery'
      t.owedMirrorSince = at
    }
  }
  if (previousRunCrashed) logger.warn({ fullSync: ctx.options.fullSync.afterCrash }, 'the previous run did not shut down cleanly')

  let written = false
  return {
    /**
     * Marks this process running (a crash from now on is seen by the next
     * start), ends the jobs the previous one left unfinished, drops the
     * journal of targets no longer configured, and stores the owed mirrors.
     * Once; before this engine makes any job of its own.
     */
    write (): void {
      if (written) return
      written = true
      settings.set(LIFECYCLE_KEY, 'running')
      const interrupted = ctx.jobs.interruptUnfinished(at)
      if (interrupted > 0) logger.warn({ jobs: interrupted }, 'jobs left unfinished by the previous run were marked interrupted')
      for (const name of unknownTargets) {
        logger.warn({ target: name }, 'dropping the journal of a target that is no longer configured')
        ctx.journal.removeTarget(name)
      }
      for (const t of ctx.targets.values()) {
        if (t.owedMirrorSeq !== null) settings.set(owedKey(t.def.name), String(t.owedMirrorSeq))
      }
    },
  }
}
