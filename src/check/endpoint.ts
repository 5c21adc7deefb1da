import type { TargetUrl } from '../config/target-url.js'
import type { SshSettings } from '../rsync/args.js'
import type { RsyncRunner } from '../rsync/runner.js'
import { probeDaemon } from './daemon-probe.js'
import { checkLocalPath } from './local-path.js'
import { result, type CheckResult } from './result.js'
import { probeSsh } from './ssh-probe.js'

/** A place rsync sends to: a target, or a mesh peer's tree. */
export interface Endpoint {
  check: 'target' | 'peer'
  name: string
  url: string
  parsed: TargetUrl
  ssh: SshSettings | undefined
  /** The rsync daemon password, handed to rsync in its environment only. */
  password: string | undefined
}

export interface ProbeOptions {
  runner: RsyncRunner
  /** Connect and I/O timeout of one probe; a probe is stopped soon after. */
  timeoutSec: number
  extraArgs: readonly string[]
  /** The environment ssh runs in (its agent, HOME). */
  env: Record<string, string | undefined>
}

/** Whether rsync could reach the endpoint the way the service will: a daemon listed, an SSH login, a local directory written. */
export async function checkEndpoint (endpoint: Endpoint, opts: ProbeOptions): Promise<CheckResult> {
  const verdict = result(endpoint.check, `${endpoint.name} (${endpoint.url})`)
  const { parsed } = endpoint
  if (parsed.kind === 'local') return checkLocalPath(parsed.path, verdict)
  if (parsed.kind === 'ssh') return probeSsh(parsed, endpoint.ssh, opts, verdict)
  return probeDaemon(endpoint, opts, verdict)
}
