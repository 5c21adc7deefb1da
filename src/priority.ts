import { readFileSync, writeFileSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/**
 * CPU priority of the service's bulk work. The service keeps its priority;
 * rsync runs nicer, so that on a busy host a health probe is answered first
 * and a burst of uploads only delays replication a little.
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

/**
 * Makes a child process `increment` nicer than this one, its autogroup
 * included. Where the kernel schedules by autogroup (one per session, the
 * default on many distributions for processes outside a cpu cgroup), a
 * process's nice only ranks it within its session, and a child spawned
 * detached (for its process group) has a session of its own: against the
 * service, only the group's nice counts. Measured here on one CPU: a nice-19
 * busy loop in its own session still took half of it from a nice-0 one, and
 * 1.3% once its autogroup was niced too. Without CAP_SYS_ADMIN the kernel
 * takes one autogroup change per 100 ms; a child it refuses keeps the
 * default group weight.
 *
 * `ownAutogroupNice` is this process's, read once (see readAutogroupNice).
 */
export function lowerChildPriority (pid: number, increment: number, ownAutogroupNice: number | undefined): void {
  try {
    setPriority(pid, Math.min(19, getPriority() + increment))
  } catch {
    // Already gone: its outcome says why.
  }
  if (ownAutogroupNice === undefined) return
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(Math.min(19, ownAutogroupNice + increment)))
  } catch {
    // Gone, or the kernel's rate limit.
  }
}
