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
 * A descriptor is matched by device and inode (a stat through it), not by
 * name: a process that opened the file before it was displaced sees the name
 * it opened, gone (`… (deleted)`) when the file was linked aside and replaced,
 * and a symlinked or bind-mounted root or another mount namespace shows other
 * paths still. Sockets, pipes and devices are told apart by their link
 * (readlink, cheap) and never stat'ed. Only a match has its mode read
 * (/proc/PID/fdinfo/N `flags`): a reader cannot change the bytes.
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
  for (const file of paths) {
    try {
      const st = lstatSync(file, { bigint: true })
      byInode.set(`${st.dev}:${st.ino}`, file)
    } catch {}
  }
  if (byInode.size === 0) return found
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
      try {
        const st = statSync(path.join(fdDir, fd), { bigint: true })
        const match = byInode.get(`${st.dev}:${st.ino}`)
        if (match !== undefined && !found.has(match) && writable(path.join(proc, pid, 'fdinfo', fd))) found.add(match)
      } catch {}
    }
  }
  return found
}

/** Whether an fdinfo's `flags` (octal open(2) flags) say O_WRONLY or O_RDWR. */
function writable (fdinfo: string): boolean {
  let text: string
  try {
    text = readFileSync(fdinfo, 'utf8')
  } catch (err) {
    // Closed meanwhile: no writer. Anything else: counted as one (kept longer, never lost).
    return (err as NodeJS.ErrnoException).code !== 'ENOENT'
  }
  const flags = /^flags:\s*([0-7]+)$/m.exec(text)?.[1]
  // Unreadable flags: counted as a writer (the file is kept longer, never lost).
  if (flags === undefined) return true
  return (parseInt(flags, 8) & 0o3) !== 0
}
