/**
 * The mass-delete guard. Every run first sends with its deletions counted but
 * not made (rsync --max-delete=0 counts what it would delete, files inside
 * deleted directories included). Within the limit a second pass makes them;
 * beyond it, or while the source is not the replicated directory, the target
 * holds its deletions until an operator confirms them.
 */
export interface DeleteGuardOptions {
  /** 0: no limit by count. */
  maxFiles: number
  /** 100: no limit by share. */
  maxPercent: number
  /** Runs deleting at most this many are never held by the share. */
  minFiles: number
}

/** Why a target holds deletions: the guard's limit, or a source fault; the one list the status schema derives from. */
export const HOLD_REASONS = ['limit', 'source'] as const
export type HoldReason = typeof HOLD_REASONS[number]

export interface DeleteHold {
  reason: HoldReason
  /** Deletions kept back so far, as rsync counted them (a mirror's count replaces the runs' sum). */
  count: number
  message: string
  since: number
  /** The run that held them last. */
  jobId: number | null
  /** An operator confirmed them: the next full mirror deletes without limit, then the hold ends. */
  confirmed: boolean
}

/** How many deletions one run may make on a target holding `targetFiles` entries (null: not known yet). */
export function deleteLimit (opts: DeleteGuardOptions, targetFiles: number | null): number {
  let limit = opts.maxFiles === 0 ? Infinity : opts.maxFiles
  if (opts.maxPercent < 100 && targetFiles !== null) {
    limit = Math.min(limit, Math.max(opts.minFiles, Math.floor(targetFiles * opts.maxPercent / 100)))
  }
  return limit
}

/** Why a run's deletions are held, for the job, the status and the log. */
export function limitMessage (count: number, opts: DeleteGuardOptions, targetFiles: number | null): string {
  const share = targetFiles !== null && targetFiles > 0 ? ` (${Math.round(count * 100 / targetFiles)} % of about ${targetFiles})` : ''
  const limits = [opts.maxFiles > 0 ? `deletes.maxFiles ${opts.maxFiles}` : '', opts.maxPercent < 100 ? `deletes.maxPercent ${opts.maxPercent} %` : ''].filter((s) => s !== '').join(', ')
  return `a run would delete ${count} files${share}, more than the guard allows (${limits}); nothing was deleted. Preview with a dry-run resync, then confirm the deletions or force a resync`
}

export function parseHold (json: string | undefined): DeleteHold | null {
  if (json === undefined) return null
  try {
    return JSON.parse(json) as DeleteHold
  } catch {
    return null
  }
}
