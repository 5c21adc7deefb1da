import type { DatabaseHealthStatus } from '../db/database-health.js'
import type { JobStore } from '../db/job-store.js'
import type { SyncEngine } from '../sync/engine.js'
import type { Readiness } from '../sync/readiness.js'
import type { EventLog } from '../sync/event-log.js'
import type { Mesh } from '../mesh/mesh.js'
import type { RequestLabels } from '../metrics.js'

/** What the HTTP layer may call: one object, decorated nowhere, passed to each route plugin. */
export interface AppServices {
  /** The running syncplane's version, and when this service started (epoch ms). */
  about: { version: string; startedAt: number }
  engine: Pick<SyncEngine, 'status' | 'pause' | 'resume' | 'requestFullSync' | 'waitForFullSync' | 'previewFullSync' | 'confirmDeletes' | 'flush' | 'pauseTarget' | 'resumeTarget' | 'pendingOf' | 'cancelJob'>
  jobs: Pick<JobStore, 'get' | 'list' | 'paths'>
  readiness: () => Readiness
  /** Whether the database takes every write, or what has been failing since when. */
  database: () => DatabaseHealthStatus
  metrics: { contentType: string; render (): Promise<string>; observeRequest (labels: RequestLabels, seconds: number): void }
  events: Pick<EventLog, 'since' | 'lastId' | 'listen'>
  /** Present on a node that is part of a mesh. */
  mesh?: Pick<Mesh, 'status' | 'conflicts' | 'confirmDeletes' | 'apply' | 'heard' | 'flush' | 'repair' | 'digest' | 'index'> | undefined
}

export interface RouteOptions {
  services: AppServices
}

/** For the scopes behind the bearer token (/v1 and /metrics): no token, no check. */
export interface AuthOptions extends RouteOptions {
  apiToken: string | undefined
}
