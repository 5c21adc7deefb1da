import type { Logger } from 'pino'
import type { JobStore } from '../db/job-store.js'

const BATCH = 5_000
const EVERY_MS = 60 * 60 * 1000

/**
 * Keeps the job history from growing forever: at start and hourly, deletes
 * finished jobs past the age and count limits, in small batches with the
 * event loop free between them (a big first prune must not stall the API).
 */
export function createJobRetention (deps: { jobs: Pick<JobStore, 'prune'>; retentionDays: number; maxJobs: number; logger: Logger; now?: () => number }) {
  const now = deps.now ?? Date.now
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  async function pruneOnce (): Promise<number> {
    let total = 0
    for (;;) {
      if (stopped) return total
      const deleted = deps.jobs.prune({
        before: deps.retentionDays > 0 ? now() - deps.retentionDays * 86_400_000 : null,
        keep: deps.maxJobs > 0 ? deps.maxJobs : null,
        batch: BATCH,
      })
      total += deleted
      if (deleted < BATCH) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (total > 0) deps.logger.info({ deleted: total }, 'pruned old jobs')
    return total
  }

  return {
    pruneOnce,
    start (): void {
      if (deps.retentionDays === 0 && deps.maxJobs === 0) return
      void pruneOnce()
      timer = setInterval(() => { void pruneOnce() }, EVERY_MS)
    },
    stop (): void {
      stopped = true
      clearInterval(timer)
    },
  }
}
