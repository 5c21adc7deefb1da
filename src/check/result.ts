export type CheckStatus = 'OK' | 'WARN' | 'FAIL'

/** What was checked: one word per kind of check, stable for `--json` readers. */
export type CheckName = 'config' | 'rsync' | 'source' | 'marker' | 'inotify' | 'database' | 'target' | 'peer' | 'peer-api'

export interface CheckResult {
  check: CheckName
  status: CheckStatus
  /** What it was checked on: a path, a target's or peer's name. */
  subject: string
  /** The whole answer, error text included; never a secret. */
  detail: string
}

/** The three answers a check on `subject` can give. */
export interface Verdict {
  ok (detail: string): CheckResult
  warn (detail: string): CheckResult
  fail (detail: string): CheckResult
}

export const result = (check: CheckName, subject: string): Verdict => ({
  ok: (detail) => ({ check, status: 'OK', subject, detail }),
  warn: (detail) => ({ check, status: 'WARN', subject, detail }),
  fail: (detail) => ({ check, status: 'FAIL', subject, detail }),
})

/**
 * The failures the service is built to ride out: it starts, retries a
 * target or peer that is down or refuses it (the others are served
 * meanwhile), waits for a missing root marker, and runs degraded on too few
 * inotify watches (periodic mirrors carry what the watcher misses). Before
 * a start (`--pre-start`) they are warnings, so that a failure means what
 * serve itself would stop on (rsync, the source, the database): a script
 * can gate a start on it without one unreachable target keeping the rest
 * from being replicated.
 */
const RIDDEN_OUT: ReadonlySet<CheckName> = new Set(['marker', 'inotify', 'target', 'peer', 'peer-api'])

export function forPreStart (results: readonly CheckResult[]): CheckResult[] {
  return results.map((r) => (r.status === 'FAIL' && RIDDEN_OUT.has(r.check) ? { ...r, status: 'WARN' } : r))
}

/** The exit codes of `check`: warnings alone still exit 0. */
export const CHECK_EXIT = { ok: 0, failed: 1, configInvalid: 2 } as const

export function exitCodeOf (results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'FAIL') ? CHECK_EXIT.failed : CHECK_EXIT.ok
}
