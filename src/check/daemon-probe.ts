import { buildProbeArgs } from '../rsync/args.js'
import { describeFailedRun } from '../rsync/output.js'
import type { Endpoint, ProbeOptions } from './endpoint.js'
import type { CheckResult, Verdict } from './result.js'

/**
 * Lists the directory the destination is made in, changing nothing: the
 * daemon answers, has the module and takes the user and password. Not the
 * destination itself, which rsync creates on the first run when only its
 * last directory is missing.
 */
export async function probeDaemon (endpoint: Endpoint, opts: ProbeOptions, verdict: Verdict): Promise<CheckResult> {
  const url = parentListingUrl(endpoint.parsed.destination)
  const outcome = await opts.runner.run({
    args: buildProbeArgs({ parsed: endpoint.parsed }, { source: '', excludes: [], ioTimeoutSec: opts.timeoutSec, connectTimeoutSec: opts.timeoutSec, extraArgs: opts.extraArgs }, url),
    password: endpoint.password,
    deadlineMs: opts.timeoutSec * 1000 + 2_000,
    killGraceMs: 1_000,
  })
  const what = `rsync --list-only ${url}`
  if (outcome.exitCode === 0) {
    return verdict.ok(`${what}: the daemon answered${endpoint.password === undefined ? '' : ' and accepted the user and password'}`)
  }
  if (outcome.timedOut) return verdict.fail(`${what}: no answer within ${opts.timeoutSec} s (a firewall dropping packets, or a daemon that hangs)`)
  return verdict.fail(`${what}: ${cause(outcome.stderrTail, endpoint.password !== undefined)}${describeFailedRun(outcome)}`)
}

/** What the operator fixes, said before rsync's own words. */
function cause (stderr: string, hasPassword: boolean): string {
  if (/@ERROR: auth failed/.test(stderr)) {
    return hasPassword ? 'auth failed: the daemon refused the user or password; ' : 'auth failed: the module needs a password and none is configured (passwordFile or passwordEnv); '
  }
  if (/@ERROR: Unknown module/.test(stderr)) return 'the daemon has no such module; '
  if (/Connection refused/.test(stderr)) return 'connection refused: no rsync daemon listens there; '
  return ''
}

/**
 * The module's directory that holds the destination: `rsync://h/mod/a/b/`
 * → `rsync://h/mod/a/`; a module root stays itself.
 */
export function parentListingUrl (destination: string): string {
  const root = /^rsync:\/\/(?:[^@/]+@)?(?:\[[^\]]+\]|[^:/]+)(?::\d+)?\/[^/]+|^(?:[^@/:]+@)?[^:/]+::[^/]+/i.exec(destination)?.[0]
  if (root === undefined) return destination
  const dirs = destination.slice(root.length).split('/').filter((d) => d !== '')
  return `${root}/${dirs.slice(0, -1).map((d) => `${d}/`).join('')}`
}
