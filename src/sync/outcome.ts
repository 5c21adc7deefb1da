import { describeExitCode, parseRefused, parseStats, parseVanished, type RsyncStats } from '../rsync/output.js'
import type { RsyncOutcome } from '../rsync/runner.js'

export type Verdict =
  | { ok: true; warning: string | null; vanished: string[] | 'unknown' | null; stats: RsyncStats }
  | { ok: false; interrupted: boolean; error: string; stats: RsyncStats; retry: 'normal' | 'slow' }

/**
 * rsync exit codes that retrying soon will not fix: bad arguments, protocol
 * mismatch, unsupported action, and the daemon refusing us (auth failed,
 * unknown module). They are still retried, at the slowest pace.
 */
const NEEDS_OPERATOR = new Set([1, 2, 4, 5])

const ERROR_TEXT_BYTES = 2_000

/**
 * Decides what one finished rsync run means for its job and its paths.
 * `isMissing` tells whether a path is gone from the source now.
 */
export function judgeOutcome (o: RsyncOutcome, source: string, isMissing: (rel: string) => boolean): Verdict {
  const stats = parseStats(o.stdout)
  const tail = o.stderrTail.length > ERROR_TEXT_BYTES ? `…${o.stderrTail.slice(-ERROR_TEXT_BYTES)}` : o.stderrTail
  const withTail = (head: string): string => (tail === '' ? head : `${head}: ${tail}`)
  if (o.spawnError !== null) {
    return { ok: false, interrupted: false, error: `could not start rsync: ${o.spawnError}`, stats, retry: 'slow' }
  }
  if (o.aborted) {
    return { ok: false, interrupted: true, error: 'stopped by shutdown', stats, retry: 'normal' }
  }
  if (o.timedOut) {
    return { ok: false, interrupted: false, error: withTail('killed: the run passed its deadline'), stats, retry: 'normal' }
  }
  // 25: --max-delete kept deletions back, as asked; the engine weighs the count.
  if (o.exitCode === 0 || (o.exitCode === 25 && o.skippedDeletes > 0)) return { ok: true, warning: null, vanished: null, stats }
  if (o.exitCode === 24) {
    const vanished = parseVanished(o.vanishedLines, source)
    return {
      ok: true,
      warning: withTail('some files vanished during the run (exit 24); they were queued again'),
      vanished: vanished.length > 0 ? vanished : 'unknown',
      stats,
    }
  }
  if (o.exitCode === 23 && o.otherErrorLines === 0 && o.refusedLines.length > 0) {
    // A daemon's `exclude` refuses a name both ways: it was never received,
    // and it cannot be deleted. Asking again to delete what the source no
    // longer has would fail forever, so such a run is done.
    const refused = parseRefused(o.refusedLines)
    if (refused.length === o.refusedLines.length && refused.every(isMissing)) {
      return { ok: true, warning: withTail('the target refuses these names (a daemon exclude), so their deletion cannot reach it'), vanished: null, stats }
    }
  }
  if (o.exitCode === null) {
    return { ok: false, interrupted: false, error: withTail(`rsync was killed by ${o.signal ?? 'a signal'}`), stats, retry: 'normal' }
  }
  return {
    ok: false,
    interrupted: false,
    error: withTail(`rsync exited with code ${o.exitCode} (${describeExitCode(o.exitCode)})`),
    stats,
    retry: NEEDS_OPERATOR.has(o.exitCode) ? 'slow' : 'normal',
  }
}
