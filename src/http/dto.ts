import type { DatabaseHealthStatus } from '../db/database-health.js'
import type { Job } from '../db/job-store.js'
import type { EngineStatus } from '../sync/engine.js'

export const iso = (ms: number): string => new Date(ms).toISOString()
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))

/** Epoch milliseconds inside, RFC 3339 on the wire. */
export function jobToDto (job: Job) {
  return { ...job, createdAt: iso(job.createdAt), startedAt: isoOrNull(job.startedAt), finishedAt: isoOrNull(job.finishedAt) }
}

export function statusToDto (status: EngineStatus, database: DatabaseHealthStatus, about: { version: string, startedAt: number }) {
  return {
    version: about.version,
    startedAt: iso(about.startedAt),
    ...status,
    database: { ...database, since: isoOrNull(database.since) },
    targets: status.targets.map((t) => ({
      ...t,
      nextRetryAt: isoOrNull(t.nextRetryAt),
      lastSuccessAt: isoOrNull(t.lastSuccessAt),
      lastError: t.lastError === null ? null : { ...t.lastError, at: iso(t.lastError.at) },
      deletesHeld: t.deletesHeld === null ? null : { ...t.deletesHeld, since: iso(t.deletesHeld.since) },
    })),
  }
}
