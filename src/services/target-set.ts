import type { Logger } from 'pino'
import type { LoadedConfig } from '../config/load.js'
import type { Config } from '../config/schema.js'
import { parseTargetUrl } from '../config/target-url.js'
import { createSshConnections, type SshConnections } from '../rsync/ssh-connections.js'
import { resolveTarget, resolveTargets, type ResolvedTarget } from '../sync/targets.js'

export interface TargetSetOptions {
  loaded: LoadedConfig
  logger: Logger
  /** Where the directory of SSH control sockets is made. */
  sshControlParent: string | undefined
}

/**
 * The targets as the engine runs them, and the shared SSH connections they
 * go through. A reload resolves only the targets it added or changed: an
 * unchanged one is handed over as the same object, so its runs keep their
 * connections.
 */
export function createTargetSet ({ loaded, logger, sshControlParent }: TargetSetOptions) {
  let connections = openSshConnections(loaded.config, logger, sshControlParent)
  const initial = resolveTargets(loaded.config, loaded.secrets, connections)
  let byName = new Map(initial.map((d) => [d.name, d]))
  /** Names the SSH connections of targets resolved later; never one in use (see resolveTarget). */
  let nextSshKey = initial.length

  return {
    /** The targets of the configuration started with. */
    initial,

    /** The targets of `next`: those named in `changed` (added or changed) resolved anew, the others as they run now. */
    resolve (next: LoadedConfig, changed: ReadonlySet<string>): ResolvedTarget[] {
      if (connections === undefined && changed.size > 0) connections = openSshConnections(next.config, logger, sshControlParent)
      return next.config.targets.map((t) => changed.has(t.name)
        ? resolveTarget(t, next.secrets.get(t.name), connections, nextSshKey++)
        : byName.get(t.name)!)
    },

    /** The engine runs `targets` now: a later reload hands these over. */
    adopt (targets: readonly ResolvedTarget[]): void {
      byName = new Map(targets.map((d) => [d.name, d]))
    },

    /** Closes the SSH masters, which ends the remote side of runs that went through them. */
    close (): Promise<void> {
      return connections?.close() ?? Promise.resolve()
    },
  }
}

/** Only when some SSH target shares its connection; without the directory, runs connect anew. */
function openSshConnections (config: Readonly<Config>, logger: Logger, parentDir: string | undefined): SshConnections | undefined {
  const sharing = config.targets.some((t) => parseTargetUrl(t.url).kind === 'ssh' && t.ssh?.controlPersistSec !== 0)
  if (!sharing) return undefined
  const connections = createSshConnections({ logger: logger.child({ component: 'ssh' }), parentDir })
  if ('unavailable' in connections) {
    logger.warn({ reason: connections.unavailable }, 'SSH targets connect anew for every run')
    return undefined
  }
  return connections
}
