import { readdirSync } from 'node:fs'
import { getPriority } from 'node:os'

/** How many threads of this process run at this nice (Linux: /proc/self/task). */
export function threadsAt (nice: number): number {
  return readdirSync('/proc/self/task').filter((tid) => {
    try {
      return getPriority(Number(tid)) === nice
    } catch {
      return false
    }
  }).length
}
