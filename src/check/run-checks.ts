import type { LoadedConfig } from '../config/load.js'
import { parseTargetUrl } from '../config/target-url.js'
import { createExecaRunner } from '../rsync/runner.js'
import { probeRsync, RsyncUnavailableError } from '../rsync/version.js'
import { checkDatabase } from './database.js'
import { checkEndpoint } from './endpoint.js'
import { checkPeerApi } from './peer-api.js'
import { result, type CheckResult } from './result.js'
import { checkSource } from './source.js'

export interface RunChecksOptions {
  /** The environment rsync and ssh run in. */
  env: Record<string, string | undefined>
  /** Connect and I/O timeout of each probe of a target or peer, in seconds. */
  timeoutSec: number
  /** Seams for tests. */
  watchLimitFile?: string | undefined
  migrationsDir?: string | undefined
}

/**
 * Every check of a loaded configuration, in the order an operator reads
 * them: rsync, the source, the database, then each target, then each
 * other peer of a mesh (its tree as rsync reaches it, and its API).
 * The network probes run side by side, so the slowest one sets the time.
 */
export async function runChecks (loaded: LoadedConfig, opts: RunChecksOptions): Promise<CheckResult[]> {
  const { config } = loaded
  const probe = { runner: createExecaRunner({ binary: config.rsync.binary, baseEnv: opts.env }), timeoutSec: opts.timeoutSec, extraArgs: config.rsync.extraArgs, env: opts.env }
  const remote = Promise.all([
    // A target's own rsync.extraArgs come after the global ones, as its runs pass them (a --port or --password-file, say).
    ...loaded.config.targets.map((t) => checkEndpoint({ check: 'target', name: t.name, url: t.url, parsed: parseTargetUrl(t.url), ssh: t.ssh, password: loaded.secrets.get(t.name) }, { ...probe, extraArgs: [...probe.extraArgs, ...(t.rsync?.extraArgs ?? [])] })),
    ...peers(loaded).flatMap((p) => [
      checkEndpoint({ check: 'peer', name: p.name, url: p.url, parsed: parseTargetUrl(p.url), ssh: p.ssh, password: loaded.mesh?.passwords.get(p.name) }, probe),
      checkPeerApi(p, opts.timeoutSec),
    ]),
  ])
  const rsync = checkRsync(config.rsync.binary)
  const local = [...checkSource(config, opts.watchLimitFile), checkDatabase(config.database, opts.migrationsDir)]
  return [await rsync, ...local, ...await remote]
}

async function checkRsync (binary: string): Promise<CheckResult> {
  const { ok, fail } = result('rsync', binary)
  try {
    return ok(`rsync ${await probeRsync(binary)}`)
  } catch (err) {
    if (!(err instanceof RsyncUnavailableError)) throw err
    return fail(err.message)
  }
}

/** The mesh's peers but this node, which has nothing to reach. */
function peers (loaded: LoadedConfig) {
  const self = loaded.mesh?.self
  return (loaded.config.mesh?.peers ?? []).filter((p) => p.name !== self)
}
