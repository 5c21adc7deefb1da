import { execa } from 'execa'
import type { TargetUrl } from '../config/target-url.js'
import { sshWords, type SshSettings } from '../rsync/args.js'
import type { ProbeOptions } from './endpoint.js'
import type { CheckResult, Verdict } from './result.js'

/** ssh's own failures (no connection, host key, authentication) exit 255; anything else is the remote command's status. */
const SSH_FAILED = 255

/**
 * Logs in the way rsync will (`ssh -o BatchMode=yes` with the target's
 * options, no shared connection) and runs `true`: the host answers, its key
 * is known, the key is accepted without a prompt.
 */
export async function probeSsh (parsed: Extract<TargetUrl, { kind: 'ssh' }>, ssh: SshSettings | undefined, opts: ProbeOptions, verdict: Verdict): Promise<CheckResult> {
  const [command, ...options] = sshWords(ssh === undefined ? undefined : { ...ssh, control: undefined }, opts.timeoutSec)
  // ssh takes an IPv6 address bare; rsync's URL puts it in brackets.
  const host = parsed.host.replace(/^\[(.*)\]$/, '$1')
  const login = parsed.user === undefined ? host : `${parsed.user}@${host}`
  const run = await execa(command!, [...options, '--', login, 'true'], {
    env: opts.env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: opts.timeoutSec * 1000 + 2_000,
    forceKillAfterDelay: 1_000,
  })
  const stderr = String(run.stderr).trim()
  const what = `ssh -o BatchMode=yes … ${login} true`
  if (run.exitCode === 0) return verdict.ok(`${what}: logged in`)
  if (run.timedOut) return verdict.fail(`${what}: no answer within ${opts.timeoutSec} s`)
  if (run.exitCode === undefined) return verdict.fail(`${what}: ${run.originalMessage ?? run.shortMessage}`)
  if (run.exitCode !== SSH_FAILED) {
    // A key with a forced command (rrsync) lets rsync in and nothing else.
    return verdict.warn(`${what}: logged in, but the remote command exited ${run.exitCode}${stderr === '' ? '' : `: ${stderr}`} (a forced command on the key? rsync may still work)`)
  }
  return verdict.fail(`${what}: ${cause(stderr)}ssh exited ${run.exitCode}: ${stderr}`)
}

function cause (stderr: string): string {
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
    return 'the host key is not known (or changed): check its fingerprint, then add it to known_hosts (ssh-keyscan) or ssh.knownHostsFile; '
  }
  if (/Permission denied/.test(stderr)) return 'the login was refused (the key, or the user); '
  if (/Connection refused/.test(stderr)) return 'connection refused: no sshd listens there; '
  return ''
}
