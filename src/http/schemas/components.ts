import { Problem, type Component } from './common.js'
import { JobDetailSchema, JobListSchema, JobSchema } from './jobs.js'
import { ConfirmDeletesResultSchema, ReadinessSchema, ResyncResultSchema, StatusSchema, TargetStatusSchema, WatchStateSchema } from './control.js'
import { MeshStatusSchema, PeerStatusSchema } from './mesh.js'
import { PendingPageSchema, TargetPauseSchema } from './targets.js'

/**
 * Every schema the routes refer to by name (ref()): app.addSchema registers
 * each, and the OpenAPI document lists each once under components.schemas.
 * The order is the document's.
 */
export const COMPONENTS: readonly Component[] = [
  Problem,
  JobSchema,
  JobDetailSchema,
  JobListSchema,
  ReadinessSchema,
  StatusSchema,
  TargetStatusSchema,
  WatchStateSchema,
  ResyncResultSchema,
  ConfirmDeletesResultSchema,
  TargetPauseSchema,
  PendingPageSchema,
  MeshStatusSchema,
  PeerStatusSchema,
]
