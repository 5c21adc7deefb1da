import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import type { Logger } from 'pino'

/**
 * The runs to each SSH target share one connection (ssh's ControlMaster)
 * through a control socket in a private directory. The masters run detached
 * from syncplane (ssh daemonizes them), so close() asks each one to exit; one
 * that cannot be reached ends by itself after its ControlPersist time without
 * a client, or when its server stops answering (ServerAlive).
 */
export interface SshConnections {
  /** A shared connection, named by `key` (short: it is part of a socket path). */
  control (key: string, persistSec: number): SshControl
  /** Asks every master to exit and removes the directory. */
  close (): Promise<void>
}

export interface SshControl {
  /** The socket the next run goes through. */
  readonly path: string
  readonly persistSec: number
  /**
   * After a run through `path` whose connection failed: the master is asked
   * to exit, and the next run opens a fresh connection instead of trusting
   * one that may be wedged. The socket gets a new name, because a master
   * removes its own socket's name when it exits. Only for a connection that
   * carries one run at a time: exiting ends every session on it.
   */
  retire (path: string): void
}

export interface SshConnectionsOptions {
  logger: Logger
  /** Where the private directory is made; the system's temporary directory by default. */
  parentDir?: string | undefined
  /** How long a master gets to acknowledge the request to exit. */
  requestTimeoutMs?: number | undefined
}

/**
 * A socket's path must fit in 108 bytes, and ssh first binds a name 17
 * characters longer than ControlPath.
 */
const MAX_DIR_LENGTH = 108 - 1 - 17 - '/9999m-999999'.length
/** ssh splits `-o` values on spaces and expands % and ~: keep the path plain. */
const PLAIN_PATH = /^[A-Za-z0-9/._-]+$/

/**
 * Makes the directory, or says why sharing is off: the runs then connect
 * anew each time, which works, only slower.
 */
export function createSshConnections (opts: SshConnectionsOptions): SshConnections | { unavailable: string } {
  const parent = opts.parentDir ?? tmpdir()
  const made = makeDirectory(parent)
  if ('unavailable' in made) return made
  let dir = made.dir
  const log = opts.logger
  const requestTimeoutMs = opts.requestTimeoutMs ?? 5_000
  const requests = new Set<Promise<void>>()

  // -F /dev/null: only the socket matters, and a user's config may run commands.
  const askToExit = async (socket: string): Promise<void> => {
    const result = await execa('ssh', ['-F', '/dev/null', '-o', `ControlPath=${socket}`, '-O', 'exit', 'syncplane-master'], {
      reject: false,
      timeout: requestTimeoutMs,
      forceKillAfterDelay: 1_000,
      stdin: 'ignore',
    })
    if (result.timedOut) log.warn({ socket }, 'an SSH master did not answer the request to exit; it ends by itself once idle or when its server stops answering')
    else log.debug({ socket, exitCode: result.exitCode }, 'SSH master asked to exit')
  }
  const inBackground = (work: Promise<void>): void => {
    const done = work.finally(() => requests.delete(done))
    requests.add(done)
  }

  return {
    control (key, persistSec) {
      let generation = 0
      const current = (): string => join(dir, `${key}-${generation}`)
      return {
        get path () { return current() },
        persistSec,
        retire (path) {
          if (path !== current()) return
          if (!existsSync(dir)) {
            // Something cleared the temporary directory; ssh cannot bind a
            // socket there. A fresh directory, never the old name: another
            // user could have made that one meanwhile.
            const again = makeDirectory(parent)
            if ('unavailable' in again) {
              log.error({ reason: again.unavailable }, 'the SSH control socket directory is gone and cannot be made again')
              return
            }
            log.warn({ gone: dir, now: again.dir }, 'the SSH control socket directory was removed; using a new one')
            dir = again.dir
            return
          }
          if (!existsSync(path)) return
          generation++
          log.info({ socket: path }, 'a run over a shared SSH connection failed; the next run opens a new one')
          // The failed run was its only one: exiting also ends a remote side that hangs.
          inBackground(askToExit(path))
        },
      }
    },

    async close () {
      await Promise.all(requests)
      let names: string[] = []
      try {
        names = readdirSync(dir)
      } catch {
        // Already gone.
      }
      await Promise.all(names.map((name) => askToExit(join(dir, name))))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function makeDirectory (parent: string): { dir: string } | { unavailable: string } {
  let dir: string
  try {
    dir = mkdtempSync(join(parent, 'syncplane-ssh-'))
  } catch (err) {
    return { unavailable: `cannot create a directory for SSH control sockets in ${parent}: ${(err as Error).message}` }
  }
  if (dir.length > MAX_DIR_LENGTH || !PLAIN_PATH.test(dir)) {
    rmSync(dir, { recursive: true, force: true })
    return { unavailable: `SSH control sockets need a plain path of at most ${MAX_DIR_LENGTH} characters (letters, digits, "/._-"), not ${dir}` }
  }
  return { dir }
}

/** rsync's exit codes that say the connection failed rather than a file (rsync(1), EXIT VALUES). */
const TRANSPORT_FAILURES: ReadonlySet<number> = new Set([5, 10, 12, 14, 30, 35, 255])

export function isTransportFailure (outcome: { exitCode: number | null, timedOut: boolean, aborted: boolean }): boolean {
  return !outcome.aborted && (outcome.timedOut || (outcome.exitCode !== null && TRANSPORT_FAILURES.has(outcome.exitCode)))
}
