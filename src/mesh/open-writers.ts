import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import path from 'node:path'

/** Of some files, the ones a process has open for writing; null when that cannot be told here. */
export type OpenForWrite = (paths: readonly string[]) => Promise<Set<string> | null>

/** Work done between two turns of the event loop: a host with many descriptors is read in slices, never in one block. */
const SLICE_MS = 5

/**
 * Which of `paths` some process has open for writing, from Linux's /proc:
 * every process's descriptors (/proc/PID/fd), one pass for all the paths.
 * Null where there is no /proc to read (another OS, a container without it):
 * the caller then goes by time alone.
 *
 * A descriptor is matched by device and inode, not by name: a process that
 * opened the file before it was displaced sees the name it opened, gone
 * (`… (deleted)`) when the file was linked aside and replaced, and a
 * symlinked or bind-mounted root or another mount namespace shows other
 * paths still. Both come from procfs alone (fdinfo's `ino` and `mnt_id`,
 * the mount's device from that process's mountinfo), never from a stat
 * through the descriptor: a process holding a file on a hung NFS mount
 * would block that stat, and this thread with it. Sockets, pipes and
 * devices are told apart by their link and skipped. A kernel older than
 * 5.14 has no `ino` in fdinfo: the descriptor is stat'ed then, as the only
 * way left.
 *
 * Not seen: processes of other users when this one is not root (their fd
 * directories are unreadable), and writes through a shared mapping whose
 * descriptor was closed.
 */
export async function openForWrite (paths: readonly string[], proc = '/proc'): Promise<Set<string> | null> {
  const found = new Set<string>()
  if (paths.length === 0) return found
  let pids: string[]
  try {
    pids = readdirSync(proc).filter((name) => /^\d+$/.test(name))
  } catch {
    return null
  }
  if (pids.length === 0) return null
  const byInode = new Map<string, string>()
  const byInodeAlone = new Map<string, string>()
  for (const file of paths) {
    try {
      const st = lstatSync(file, { bigint: true })
      byInode.set(`${st.dev}:${st.ino}`, file)
      byInodeAlone.set(String(st.ino), file)
    } catch {}
  }
  if (byInode.size === 0) return found
  const devices = mountDevices(proc)
  let sliceStart = performance.now()
  for (const pid of pids) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve))
      sliceStart = performance.now()
    }
    const fdDir = path.join(proc, pid, 'fd')
    let fds: string[]
    try {
      fds = readdirSync(fdDir)
    } catch {
      // Gone meanwhile, or another user's.
      continue
    }
    for (const fd of fds) {
      let target: string
      try {
        target = readlinkSync(path.join(fdDir, fd))
      } catch {
        continue
      }
      if (!target.startsWith('/') || /^\/(dev|proc|sys)\//.test(target)) continue
      const info = readFdInfo(path.join(proc, pid, 'fdinfo', fd))
      // Closed meanwhile: no writer. A reader cannot change the bytes.
      if (info === 'closed' || !info.writable) continue
      let match: string | undefined
      if (info.ino === undefined) {
        const key = statKey(path.join(fdDir, fd))
        if (key !== undefined) match = byInode.get(key)
      } else {
        const dev = devices.of(pid, info.mntId)
        // A mount no mountinfo names: matched by inode alone (a file held longer, never one lost).
        match = dev === undefined ? byInodeAlone.get(info.ino) : byInode.get(`${dev}:${info.ino}`)
      }
      if (match !== undefined) found.add(match)
    }
  }
  return found
}

interface FdInfo {
  /** O_WRONLY or O_RDWR; unreadable flags count as writable (the file is kept longer, never lost). */
  writable: boolean
  ino: string | undefined
  mntId: string | undefined
}

function readFdInfo (file: string): FdInfo | 'closed' {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'closed'
    // Anything else: counted as a writer of whatever the descriptor is.
    text = ''
  }
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(\\d+)$`, 'm').exec(text)?.[1]
  const flags = field('flags')
  return { writable: flags === undefined || (parseInt(flags, 8) & 0o3) !== 0, ino: field('ino'), mntId: field('mnt_id') }
}

function statKey (fdLink: string): string | undefined {
  try {
    const st = statSync(fdLink, { bigint: true })
    return `${st.dev}:${st.ino}`
  } catch {
    return undefined
  }
}

/**
 * The device of a mount, by its id, as stat's `dev` gives it: mount ids are
 * unique on the host, and each process's mountinfo lists those it sees
 * (ours first; another namespace's read once per pass, when one is met).
 */
function mountDevices (proc: string) {
  const known = new Map<string, string>()
  const read = new Set<string>()
  const readMountInfo = (pid: string): void => {
    if (read.has(pid)) return
    read.add(pid)
    let text: string
    try {
      text = readFileSync(path.join(proc, pid, 'mountinfo'), 'utf8')
    } catch {
      return
    }
    for (const line of text.split('\n')) {
      // "36 35 98:0 /mnt1 /mnt/parent rw ...": mount id, parent id, major:minor, ...
      const m = /^(\d+) \d+ (\d+):(\d+) /.exec(line)
      if (m !== null) known.set(m[1]!, String(makeDev(BigInt(m[2]!), BigInt(m[3]!))))
    }
  }
  readMountInfo('self')
  return {
    of (pid: string, mntId: string | undefined): string | undefined {
      if (mntId === undefined) return undefined
      if (!known.has(mntId)) readMountInfo(pid)
      return known.get(mntId)
    },
  }
}

/** glibc's makedev: how Linux's stat encodes a major:minor pair in `st_dev`. */
function makeDev (major: bigint, minor: bigint): bigint {
  return ((major & 0xfffn) << 8n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n) | ((major & ~0xfffn) << 32n)
}
