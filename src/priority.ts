import { readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/**
 * CPU priority of the service's bulk work. The thread that answers HTTP keeps
 * the service's priority; rsync and the service's worker threads run nicer,
 * so that on a busy host a health probe is answered first and a burst of
 * uploads only delays replication a little.
 *
 * All of it is best effort: a process may be gone, a platform may have no
 * such notion, and lowering one's own priority never needs a privilege.
 */

/** The nice of a process's autogroup (`/proc/PID/autogroup`: "/autogroup-123 nice 0"), or undefined without autogroups. */
export function readAutogroupNice (pid: number | 'self'): number | undefined {
  try {
    const m = /nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}

/** Without CAP_SYS_ADMIN the kernel takes one autogroup change per 100 ms, host-wide. */
const AUTOGROUP_RETRY_MS = 110
/** About 5 s: a run that outlives them keeps the default group weight. */
const AUTOGROUP_ATTEMPTS = 45

export type WriteAutogroup = (pid: number, nice: number) => void

const writeAutogroupFile: WriteAutogroup = (pid, nice) => writeFileSync(`/proc/${pid}/autogroup`, String(nice))

/**
 * Makes a child process `increment` nicer than this one, its autogroup
 * included. Where the kernel schedules by autogroup (one per session, the
 * default on many distributions for processes outside a cpu cgroup), a
 * process's nice only ranks it within its session, and a child spawned
 * detached (for its process group) has a session of its own: against the
 * service, only the group's nice counts. Measured here on one CPU: a nice-19
 * busy loop in its own session still took half of it from a nice-0 one, and
 * 1.3% once its autogroup was niced too.
 *
 * The kernel refuses an autogroup change (EAGAIN) within 100 ms of the last
 * one anywhere on the host, unless the caller has CAP_SYS_ADMIN: with
 * several targets, their runs start on the same tick. A refused change is
 * tried again on a timer that keeps no process alive, until the child is gone.
 *
 * `ownAutogroupNice` is this process's, read once (see readAutogroupNice).
 */
export function lowerChildPriority (pid: number, increment: number, ownAutogroupNice: number | undefined, write: WriteAutogroup = writeAutogroupFile): void {
  try {
    setPriority(pid, Math.min(19, getPriority() + increment))
  } catch {
    // Already gone: its outcome says why.
  }
  if (ownAutogroupNice === undefined) return
  const nice = Math.min(19, ownAutogroupNice + increment)
  const attempt = (left: number): void => {
    try {
      write(pid, nice)
    } catch (err) {
      // ENOENT or ESRCH: the run is over.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN' && left > 1) setTimeout(attempt, AUTOGROUP_RETRY_MS, left - 1).unref()
    }
  }
  attempt(AUTOGROUP_ATTEMPTS)
}

/**
 * Makes the calling thread `increment` nicer than it is. On Linux a nice is
 * a thread's own (setpriority on a thread id) and threads the thread starts
 * later inherit it, native ones included. Within the process's autogroup
 * this ranks the thread below the one answering HTTP. Returns the thread's
 * nice afterwards, or undefined where a thread cannot be told apart.
 */
export function lowerThisThreadPriority (increment: number): number | undefined {
  if (increment <= 0) return undefined
  let tid: number
  try {
    // "PID/task/TID": the kernel's name for the calling thread.
    tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1))
  } catch {
    return undefined
  }
  if (!Number.isInteger(tid) || tid <= 0) return undefined
  try {
    setPriority(tid, Math.min(19, getPriority(tid) + increment))
    return getPriority(tid)
  } catch {
    return undefined
  }
}
