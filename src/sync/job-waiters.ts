import type { Job, JobStore } from '../db/job-store.js'
import type { EngineTimers } from './engine-types.js'

/** Callers waiting for jobs to finish (a resync that waits, confirmDeletes, tests), woken as each job settles. */
export function createJobWaiters (jobs: JobStore, timers: EngineTimers) {
  const waiters = new Map<number, Array<() => void>>()

  /** Resolves with the jobs once every one of them has finished. */
  async function waitForJobs (ids: readonly number[]): Promise<Job[]> {
    await Promise.all(ids.map((id) => {
      const job = jobs.get(id)
      if (job === undefined || (job.status !== 'queued' && job.status !== 'running')) return undefined
      return new Promise<void>((resolve) => {
        const list = waiters.get(id) ?? []
        list.push(resolve)
        waiters.set(id, list)
      })
    }))
    return ids.map((id) => jobs.get(id)).filter((j): j is Job => j !== undefined)
  }

  return {
    waitForJobs,

    /** True when every job finished within `timeoutMs`. */
    async waitWithin (ids: readonly number[], timeoutMs: number): Promise<boolean> {
      let timer: unknown
      const done = await Promise.race([
        waitForJobs(ids).then(() => true),
        new Promise<false>((resolve) => { timer = timers.setTimeout(() => resolve(false), timeoutMs) }),
      ])
      timers.clearTimeout(timer)
      return done
    },

    /** Job `jobId` finished: wakes whoever waits for it. */
    notify (jobId: number): void {
      const list = waiters.get(jobId)
      if (list === undefined) return
      waiters.delete(jobId)
      for (const resolve of list) resolve()
    },
  }
}
export type JobWaiters = ReturnType<typeof createJobWaiters>
