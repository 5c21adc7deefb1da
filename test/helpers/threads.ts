import { readdirSync } from 'node:fs'
import { getPriority } from 'node:os'

/** How many threads of a process (this one by default) run at this nice (Linux: /proc/PID/task). */
export function threadsAt (nice: number, pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/task`).filter((tid) => {
    try {
      return getPriority(Number(tid)) === nice
    } catch {
      return false
    }
  }).length
}
