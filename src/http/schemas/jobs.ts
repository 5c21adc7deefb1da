import { Type, type Static } from 'typebox'
import { JOB_KINDS, JOB_STATUSES, JOB_TRIGGERS } from '../../db/job-store.js'
import { component, NullableTimestamp, ref, Timestamp } from './common.js'

export const JobStatusSchema = Type.Enum(JOB_STATUSES)
export const JobKindSchema = Type.Enum(JOB_KINDS)
export const JobTriggerSchema = Type.Enum(JOB_TRIGGERS)

const NullableInt = Type.Union([Type.Integer(), Type.Null()])
const NullableString = Type.Union([Type.String(), Type.Null()])

export const JobSchema = component('Job', Type.Object({
  id: Type.Integer(),
  target: Type.String(),
  kind: JobKindSchema,
  trigger: JobTriggerSchema,
  status: JobStatusSchema,
  attempt: Type.Integer({ description: '1 for a first try; retries count up' }),
  pathsCount: Type.Integer({ description: 'Paths the watcher reported for this run (0 for a full sync)' }),
  pathsTruncated: Type.Boolean({ description: 'True when more paths were carried than the history keeps' }),
  filesTransferred: Type.Union([Type.Integer(), Type.Null()], { description: "From rsync's --stats" }),
  bytesTransferred: Type.Union([Type.Integer(), Type.Null()], { description: 'Total size of the files transferred' }),
  exitCode: NullableInt,
  error: NullableString,
  warning: NullableString,
  requestedBy: Type.Union([Type.String(), Type.Null()], { description: 'Remote address of the API caller that asked for this job' }),
  createdAt: Timestamp,
  startedAt: NullableTimestamp,
  finishedAt: NullableTimestamp,
  durationMs: NullableInt,
}))

export const JobDetailSchema = component('JobDetail', Type.Object({
  job: ref(JobSchema),
  paths: Type.Array(Type.String(), { description: 'The paths this job carried (capped per job)' }),
}))

export const JobListQuery = Type.Object({
  status: Type.Optional(JobStatusSchema),
  target: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  kind: Type.Optional(JobKindSchema),
  trigger: Type.Optional(JobTriggerSchema),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Jobs created at or after this time' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Jobs created before this time' })),
  path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Jobs that carried this path, relative to the source (each job keeps up to jobs.pathsPerJob paths)' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  cursor: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'nextCursor of the previous page' })),
}, { additionalProperties: false })

export const JobListSchema = component('JobList', Type.Object({
  jobs: Type.Array(ref(JobSchema)),
  nextCursor: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as cursor for the next (older) page; null on the last page' }),
}))

export const JobIdParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
})

export type JobDto = Static<typeof JobSchema>
