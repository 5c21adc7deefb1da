import { Type } from 'typebox'
import { component, NullableTimestamp, ref, Timestamp } from './common.js'
import { JobSchema } from './jobs.js'
import { MeshStatusSchema } from './mesh.js'
import { TARGET_STATES } from '../../sync/engine.js'
import { HOLD_REASONS } from '../../sync/delete-guard.js'
import { SOURCE_FAULT_KINDS } from '../../watcher/source-identity.js'
import { BACKEND_WATCHER_STATES, WATCHER_STATES } from '../../watcher/watcher.js'
import { DATABASE_STATES } from '../../db/database-health.js'

export const HealthSchema = Type.Object({ status: Type.Literal('ok') })

export const ReadinessSchema = component('Readiness', Type.Object({
  status: Type.Enum(['ready', 'not ready']),
  checks: Type.Object({
    watcher: Type.Object({ ok: Type.Boolean(), state: Type.Enum(BACKEND_WATCHER_STATES), detail: Type.Union([Type.String(), Type.Null()]) }),
    database: Type.Object({ ok: Type.Boolean(), detail: Type.Union([Type.String(), Type.Null()]) }),
    lag: Type.Object({ ok: Type.Boolean(), detail: Type.Union([Type.String(), Type.Null()]) }, { description: 'Checked when readiness.maxLagSec is set (targets and mesh peers)' }),
    mesh: Type.Optional(Type.Object({ ok: Type.Boolean(), detail: Type.Union([Type.String(), Type.Null()]) }, { description: 'On a mesh node: the peers reached and what they are owed. An unreachable peer does not make this node unready (it still serves every file it has); a held mass deletion does' })),
  }),
}))

export const TargetStatusSchema = component('TargetStatus', Type.Object({
  name: Type.String(),
  url: Type.String(),
  state: Type.Enum(TARGET_STATES, { description: '`held`: the target holds deletions back until an operator confirms them (see deletesHeld)' }),
  paused: Type.Boolean({ description: 'Paused on its own (POST /v1/targets/{name}/pause), apart from the global pause' }),
  pending: Type.Integer({ description: 'Changed paths waiting for this target' }),
  inFlight: Type.Integer({ description: 'Paths in the running rsync' }),
  fullSyncPending: Type.Boolean({ description: 'A full mirror is owed to this target (requested, periodic, after a crash, or replacing a backlog too long to keep)' }),
  lagMs: Type.Integer({ description: 'Age of the oldest change this target has not confirmed' }),
  runningJobId: Type.Union([Type.Integer(), Type.Null()]),
  queuedFullJobId: Type.Union([Type.Integer(), Type.Null()]),
  consecutiveFailures: Type.Integer(),
  nextRetryAt: NullableTimestamp,
  lastSuccessAt: NullableTimestamp,
  lastError: Type.Union([Type.Object({
    message: Type.String(),
    at: Type.String({ format: 'date-time' }),
    jobId: Type.Integer(),
  }), Type.Null()]),
  deletesHeld: Type.Union([Type.Object({
    reason: Type.Enum(HOLD_REASONS, { description: '`limit`: a run would have deleted more than deletes.maxFiles or deletes.maxPercent allow; `source`: the source root was unmounted or replaced' }),
    count: Type.Integer({ description: 'Deletions held back so far, as rsync counted them (files inside deleted directories included)' }),
    message: Type.String(),
    since: Timestamp,
    jobId: Type.Union([Type.Integer(), Type.Null()], { description: 'The run that held deletions last' }),
    confirmed: Type.Boolean({ description: 'An operator confirmed them: the next full mirror makes them' }),
  }, { description: 'Preview with POST /v1/resync {"dryRun": true}; release with POST /v1/targets/{name}/deletes/confirm or a forced resync' }), Type.Null()]),
}))

export const StatusSchema = component('Status', Type.Object({
  version: Type.String({ description: 'The syncplane version that answers, e.g. 0.1.0' }),
  startedAt: Type.String({ format: 'date-time', description: 'When this service started (a restart or an upgrade resets it)' }),
  watcher: Type.Object({
    state: Type.Enum(WATCHER_STATES),
    lastError: Type.Union([Type.String(), Type.Null()]),
  }),
  sourceFault: Type.Union([Type.Object({
    kind: Type.Enum(SOURCE_FAULT_KINDS),
    message: Type.String(),
  }, { description: 'The source root is not the directory that was replicated: `missing` and `marker-missing` stop every run; `unmounted` and `replaced` let additions through and hold every deletion' }), Type.Null()]),
  paused: Type.Boolean(),
  database: Type.Object({
    state: Type.Enum(DATABASE_STATES, { description: 'failing: some writes (journal, job history, settings) are kept in memory and retried; replication goes on' }),
    error: Type.Union([Type.String(), Type.Null()], { description: 'What fails, e.g. "database or disk is full (SQLITE_FULL) writing the journal"' }),
    since: NullableTimestamp,
  }),
  targets: Type.Array(ref(TargetStatusSchema)),
  // On a mesh node: every peer with what it is owed (as GET /v1/mesh). A
  // description beside a $ref would be dropped from the document.
  mesh: Type.Optional(ref(MeshStatusSchema)),
}))

export const WatchStateSchema = component('WatchState', Type.Object({
  paused: Type.Boolean(),
  changed: Type.Boolean({ description: 'False when the call found the watcher already in that state' }),
}))

export const ResyncBody = Type.Object({
  targets: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, description: 'Target names; all targets when absent or empty' })),
  force: Type.Optional(Type.Boolean({ description: 'Mirror even when the source is empty and a target is not, and make every deletion a target holds (this confirms them)' })),
  dryRun: Type.Optional(Type.Boolean({ description: 'Change nothing: answer 200 with what a forced mirror would send and delete on each target (rsync -n)' })),
}, { additionalProperties: false })

export const ResyncQuery = Type.Object({
  wait: Type.Boolean({ default: false, description: 'Answer when the jobs finished: 200 if all succeeded, 502 otherwise, 409 if a target holds deletions' }),
  limit: Type.Integer({ minimum: 0, maximum: 100_000, default: 1_000, description: 'With dryRun: names listed per target and kind' }),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, description: 'With wait: give up waiting after this many seconds (504); the jobs go on' })),
}, { additionalProperties: false })

const PreviewList = Type.Object({
  count: Type.Integer(),
  paths: Type.Array(Type.String(), { description: 'The first names, up to the `limit` query parameter' }),
})

export const ResyncResultSchema = component('ResyncResult', Type.Object({
  jobs: Type.Array(ref(JobSchema), { description: 'Empty for a dry run' }),
  mesh: Type.Optional(Type.Object({
    done: Type.Boolean({ description: 'Every peer acknowledged every version recorded before the answer' }),
    owed: Type.Integer({ description: 'Versions still owed to some peer' }),
  }, { description: 'A flush on a mesh node: whether the changes reached every peer' })),
  preview: Type.Optional(Type.Array(Type.Object({
    target: Type.String(),
    send: PreviewList,
    delete: PreviewList,
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why this target could not be previewed' }),
  }), { description: 'A dry run: what a forced mirror would do' })),
  deletesHeld: Type.Optional(Type.Array(Type.Object({
    target: Type.String(),
    count: Type.Integer(),
    message: Type.String(),
  }), { description: 'With wait: targets that hold deletions after the jobs (answered 409)' })),
}))

export const ConfirmDeletesBody = Type.Object({
  expected: Type.Optional(Type.Integer({ minimum: 0, description: 'The count the operator reviewed; refused (409) when the target now holds another' })),
}, { additionalProperties: false })

export const ConfirmDeletesResultSchema = component('ConfirmDeletesResult', Type.Object({
  job: ref(JobSchema),
  count: Type.Integer({ description: 'The deletions confirmed' }),
}))

const RelativePath = Type.String({
  minLength: 1,
  maxLength: 4096,
  // Relative, no `..` segment, no NUL: a path inside the source.
  pattern: '^(?!/)(?!.*(?:^|/)\\.\\.(?:/|$))[^\\u0000]+$',
  description: 'A path relative to the source',
})

export const FlushBody = Type.Object({
  targets: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, description: 'Target names; all targets when absent or empty' })),
  paths: Type.Optional(Type.Array(RelativePath, { maxItems: 10_000, description: 'Paths the caller just changed; counted as observed now, even if the watcher has not reported them yet' })),
  timeout: Type.Number({ exclusiveMinimum: 0, maximum: 3_600, default: 60, description: 'Seconds to wait before answering 504 (the work goes on)' }),
}, { additionalProperties: false })
