import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { SyncplaneError } from '../../errors.js'
import { JobDetailSchema, JobIdParams, JobListQuery, JobListSchema, JobSchema } from '../schemas/jobs.js'
import { problemResponses, ref } from '../schemas/common.js'
import { jobToDto } from '../dto.js'
import type { RouteOptions } from '../services.js'

const PATHS_SHOWN = 1_000

export const jobRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/jobs', {
    schema: {
      operationId: 'listJobs',
      tags: ['jobs'],
      summary: 'Job history, newest first, filtered and paginated by cursor',
      querystring: JobListQuery,
      response: { 200: ref(JobListSchema), ...problemResponses },
    },
  }, async (request) => {
    const q = request.query
    const jobs = services.jobs.list({
      status: q.status,
      target: q.target,
      kind: q.kind,
      trigger: q.trigger,
      path: q.path,
      since: q.since === undefined ? undefined : Date.parse(q.since),
      until: q.until === undefined ? undefined : Date.parse(q.until),
      before: q.cursor,
    }, q.limit + 1)
    const page = jobs.slice(0, q.limit)
    return { jobs: page.map(jobToDto), nextCursor: jobs.length > q.limit ? page[page.length - 1]!.id : null }
  })

  app.get('/jobs/:id', {
    schema: {
      operationId: 'getJob',
      tags: ['jobs'],
      summary: 'One job with the paths it carried',
      params: JobIdParams,
      response: { 200: ref(JobDetailSchema), ...problemResponses },
    },
  }, async (request) => {
    const job = services.jobs.get(request.params.id)
    if (job === undefined) throw new SyncplaneError('JOB_NOT_FOUND', `no job with id ${request.params.id}`)
    return { job: jobToDto(job), paths: services.jobs.paths(job.id, PATHS_SHOWN) }
  })

  app.post('/jobs/:id/cancel', {
    schema: {
      operationId: 'cancelJob',
      tags: ['jobs'],
      summary: 'Stop a running job, or drop a queued one; its paths stay pending',
      description: 'A running rsync is stopped (SIGTERM, then SIGKILL after rsync.killGraceSec); the job ends `interrupted` with the error "cancelled by an operator" (watch `GET /v1/jobs/{id}` or the event stream). Nothing is lost: the paths it carried stay pending, and the target tries again after retry.maxDelayMs. Pause the target first to hold it. 409 `JOB_NOT_RUNNING` for a job that already ended.',
      params: JobIdParams,
      response: { 202: ref(JobSchema), ...problemResponses },
    },
  }, async (request, reply) => reply.code(202).send(jobToDto(services.engine.cancelJob(request.params.id))))
}
