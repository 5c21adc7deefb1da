import { SSH_CONTROL_PERSIST_SEC, type Config, type TargetConfig, type TargetRsyncOptions } from '../config/schema.js'
import { parseTargetUrl, type TargetUrl } from '../config/target-url.js'
import type { SshSettings } from '../rsync/args.js'
import type { RsyncInvocation } from '../rsync/runner.js'
import type { SshConnections, SshControl } from '../rsync/ssh-connections.js'
import type { Lane } from './lanes.js'

export interface ResolvedTarget {
  name: string
  /** As configured; holds no secret (passwords live apart). */
  url: string
  parsed: TargetUrl
  ssh: (SshSettings & { control?: SshControl | undefined }) | undefined
  /**
   * The shared SSH connections of the two lanes (the engine's primary runs
   * and the runs alongside a mirror), when sharing is on. Each carries one run at
   * a time, so the connection of a run that failed can be closed outright.
   */
  sshLanes: Record<Lane, SshControl> | undefined
  password: string | undefined
  /** This target's own rsync options (bwlimit, exclude, extraArgs), after the global ones. */
  rsync: TargetRsyncOptions
}

/** `connections`: where SSH targets share their connections; without it every run connects anew. */
export function resolveTargets (config: Readonly<Config>, secrets: ReadonlyMap<string, string>, connections?: SshConnections): ResolvedTarget[] {
  return config.targets.map((t, index) => resolveTarget(t, secrets.get(t.name), connections, index))
}

/**
 * One target. `key` names its SSH connections: never one another target
 * used, nor this target before a change of host or options, since a run
 * goes wherever the master behind the socket is connected.
 */
export function resolveTarget (t: Readonly<TargetConfig>, password: string | undefined, connections: SshConnections | undefined, key: number): ResolvedTarget {
  const parsed = parseTargetUrl(t.url)
  const persistSec = t.ssh?.controlPersistSec ?? SSH_CONTROL_PERSIST_SEC
  const sharing = parsed.kind === 'ssh' && persistSec > 0 && connections !== undefined
  return {
    name: t.name,
    url: t.url,
    parsed,
    ssh: t.ssh,
    sshLanes: sharing ? { primary: connections.control(`${key}m`, persistSec), alongsideMirror: connections.control(`${key}s`, persistSec) } : undefined,
    password,
    rsync: t.rsync ?? { exclude: [], extraArgs: [] },
  }
}

/** An rsync run to `target`: the target's password and SSH connection go with the arguments and limits of `run`. */
export function invocationTo (target: ResolvedTarget, run: Omit<RsyncInvocation, 'password' | 'sshControl'>): RsyncInvocation {
  return { ...run, password: target.password, sshControl: target.ssh?.control }
}
