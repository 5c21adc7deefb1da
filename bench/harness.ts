import { mkdtempSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { startRsyncDaemon, type RsyncDaemon } from '../test/helpers/rsync-daemon.js'
import { waitUntil, writeTree } from './common.js'
import type { BenchSettings } from './settings.js'
import { createWorkFs } from './work-fs.js'
import { makeCountingRsync, type System, type SystemContext } from './systems.js'

/**
 * What every scenario of one bench run shares: a temporary root, one
 * authenticated rsync daemon on loopback whose module holds every system's
 * replica, and an rsync wrapper that counts each system's runs alike.
 */
export interface Harness {
  settings: BenchSettings
  root: string
  /** What `root` is on (bench/work-fs.ts). */
  fs: string
  /** The daemon's module directory: each system's replica is a directory in it. */
  moduleDir: string
  daemon: RsyncDaemon
  passwordFile: string
  /** A context over a new source with the burst's directories (and `lat/`) made. */
  freshContext (name: string): Promise<{ ctx: SystemContext; source: string }>
  /** A context over `source`, a tree the caller prepares under `dir`. */
  contextAt (dir: string, source: string): SystemContext
  /** Starts a system and waits until a probe file written to the source reaches the target; returns the replica. */
  startReady (system: System, source: string): Promise<string>
  /** rsync runs started so far, by every system. */
  rsyncRuns (): Promise<number>
  /** The burst: 4 KiB files into the existing directories, as fast as possible. */
  writeBurst (source: string): Promise<void>
  /** The burst's files on the replica: a name without a leading dot is a complete file (rsync renames into place). */
  countReplica (replica: string): Promise<number>
  /** Frees the disk the scale trees took; the module directory itself must stay for the daemon. */
  emptyModule (): Promise<void>
  /** Stops the daemon. */
  close (): Promise<void>
  /** Removes the temporary root, and the filesystem made for it (after close). */
  remove (): Promise<void>
}

export async function createHarness (settings: BenchSettings): Promise<Harness> {
  const { burst } = settings
  const workFs = await createWorkFs(settings.fs)
  const root = mkdtempSync(path.join(workFs.dir, 'syncplane-bench-'))
  const moduleDir = path.join(root, 'module')
  const daemon = await startRsyncDaemon({ root: path.join(root, 'daemon'), modulePath: moduleDir }).catch(async (err) => {
    await workFs.release()
    throw err
  })
  const passwordFile = path.join(root, 'rsync.pass')
  await writeFile(passwordFile, `${daemon.password}\n`, { mode: 0o600 })
  const counting = await makeCountingRsync(root)

  const contextAt = (dir: string, source: string): SystemContext =>
    ({ root: dir, source, daemon, passwordFile, rsync: counting.binary, service: settings.service })

  return {
    settings,
    root,
    fs: workFs.describe,
    moduleDir,
    daemon,
    passwordFile,
    contextAt,

    async freshContext (name) {
      const dir = path.join(root, `${name.replace(/\W+/g, '-')}-${Date.now()}`)
      const source = path.join(dir, 'source')
      await mkdir(path.join(source, 'lat'), { recursive: true })
      for (let d = 0; d < burst.dirs; d++) await mkdir(path.join(source, `d${d}`))
      return { ctx: contextAt(dir, source), source }
    },

    async startReady (system, source) {
      const replica = system.replicaOf(moduleDir)
      await rm(replica, { recursive: true, force: true })
      await system.start()
      // A watcher may still be setting up its watches: write a new probe each second until one arrives.
      let lastProbe = 0
      const ok = await waitUntil(async () => {
        if (Date.now() - lastProbe > 1_000) {
          lastProbe = Date.now()
          await writeFile(path.join(source, `ready-${lastProbe}`), 'x')
        }
        return (await readdir(replica).catch(() => [] as string[])).some((n) => n.startsWith('ready-'))
      }, settings.timeoutMs, 50)
      if (!ok) throw new Error(`${system.name} never replicated the probe file`)
      return replica
    },

    async rsyncRuns () {
      return (await readFile(counting.logFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length
    },

    writeBurst: (source) => writeTree(source, { files: burst.files, dirs: burst.dirs, size: 4096, chunk: 500, existingDirs: true }),

    async countReplica (replica) {
      let n = 0
      for (let d = 0; d < burst.dirs; d++) {
        const names = await readdir(path.join(replica, `d${d}`)).catch(() => [] as string[])
        n += names.filter((x) => !x.startsWith('.')).length
      }
      return n
    },

    async emptyModule () {
      for (const name of await readdir(moduleDir)) await rm(path.join(moduleDir, name), { recursive: true, force: true })
    },

    close: () => daemon.stop(),
    async remove () {
      await rm(root, { recursive: true, force: true })
      await workFs.release()
    },
  }
}
