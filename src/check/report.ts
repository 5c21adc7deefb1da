import { table } from '../client/format.js'
import type { CheckResult, CheckStatus } from './result.js'

export interface Report {
  /** The worst status of all the checks. */
  status: CheckStatus
  exitCode: number
  /** Whether failures the service rides out were reported as warnings (`--pre-start`). */
  preStart: boolean
  checks: CheckResult[]
}

export function worstStatus (checks: readonly CheckResult[]): CheckStatus {
  if (checks.some((c) => c.status === 'FAIL')) return 'FAIL'
  return checks.some((c) => c.status === 'WARN') ? 'WARN' : 'OK'
}

/** One line per check, each detail whole (on one line), then the count of each status. */
export function renderTable (report: Report): string {
  const rows = report.checks.map((c) => [c.status, c.check, c.subject, c.detail])
  const count = (s: CheckStatus): number => report.checks.filter((c) => c.status === s).length
  const note = report.preStart ? ' (--pre-start: targets, peers, root marker and inotify limit warn only)' : ''
  return `${table(['STATUS', 'CHECK', 'SUBJECT', 'DETAIL'], rows)}\n${count('OK')} OK, ${count('WARN')} WARN, ${count('FAIL')} FAIL${note}\n`
}

export function renderJson (report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`
}
