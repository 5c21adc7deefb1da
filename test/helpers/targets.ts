import path from 'node:path'
import { mkdir } from 'node:fs/promises'
import { startRsyncDaemon, type RsyncDaemon } from './rsync-daemon.js'
import { startSshd, sshdAvailable, type Sshd } from './sshd.js'
import type { TempDir } from './temp-dir.js'

export type TargetKind = 'daemon' | 'ssh' | 'local'

export interface TestTarget {
  kind: TargetKind
  /** The target's entry in the config. */
  config: Record<string, unknown>
  /** Environment the config needs (the daemon password). */
  env: Record<string, string>
  /** Where the replica lands on this machine. */
  dir: string
  daemon?: RsyncDaemon
  sshd?: Sshd
}

export const TARGET_KINDS: readonly TargetKind[] = ['daemon', 'ssh', 'local']

/** Why a kind cannot run here, or undefined when it can. */
export function skipReason (kind: TargetKind): string | undefined {
  return kind === 'ssh' && !sshdAvailable() ? 'openssh-server is not installed (apt-get install openssh-server)' : undefined
}

/**
 * A real target of the given kind in the test's directory: an authenticated
 * rsync daemon, an sshd, or a local directory. A server stops when the test ends.
 */
export async function startTarget (tmp: TempDir, kind: TargetKind, name: string = kind, opts: { moduleOptions?: string[] } = {}): Promise<TestTarget> {
  const dir = path.join(tmp.path, `${name}-replica`)
  await mkdir(dir, { recursive: true })
  if (kind === 'daemon') {
    const daemon = await startRsyncDaemon({ root: path.join(tmp.path, `${name}-daemon`), modulePath: dir, moduleOptions: opts.moduleOptions })
    tmp.after(() => daemon.stop())
    const envName = `SYNCPLANE_TEST_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`
    return {
      kind,
      config: { name, url: daemon.url, passwordEnv: envName },
      env: { [envName]: daemon.password },
      dir,
      daemon,
    }
  }
  if (kind === 'ssh') {
    const sshd = await startSshd({ root: path.join(tmp.path, `${name}-sshd`) })
    tmp.after(() => sshd.stop())
    return {
      kind,
      config: {
        name,
        url: `${sshd.user}@127.0.0.1:${dir}/`,
        ssh: { port: sshd.port, identityFile: sshd.identityFile, knownHostsFile: sshd.knownHostsFile, options: ['StrictHostKeyChecking=yes'] },
      },
      env: {},
      dir,
      sshd,
    }
  }
  return { kind, config: { name, url: `${dir}/` }, env: {}, dir }
}
