import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ResyncBody, ResyncQuery, ResyncResultSchema } from '../schemas/control.js'
import { problemResponses } from '../schemas/common.js'
import { jobToDto } from '../dto.js'
import type { RouteOptions } from '../services.js'

export const resyncRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.post('/v1/resync', {
    schema: {
      operationId: 'resync',
      tags: ['sync'],
      summary: 'Queue a full mirror (rsync --delete) of the source to some or all targets',
      description: 'Answers 202 with the queued jobs. With `wait=true` it answers when they finished: 200 if all succeeded, 502 with the jobs if any did not, 504 if `timeout` passed first (the jobs go on). A target that already has a full sync queued answers with that job.',
      querystring: ResyncQuery,
      body: ResyncBody,
      response: { 200: ResyncResultSchema, 202: ResyncResultSchema, 502: ResyncResultSchema, 504: ResyncResultSchema, ...problemResponses },
    },
    // The body is optional: a bare `curl -X POST` means "all targets".
    preValidation: async (request) => {
      request.body ??= {}
    },
  }, async (request, reply) => {
    const queued = services.engine.requestFullSync({
      targets: request.body?.targets,
      force: request.body?.force,
      trigger: 'api',
      requestedBy: request.ip,
    })
    const ids = queued.map((j) => j.id)
    if (!request.query.wait) return reply.code(202).send({ jobs: queued.map(jobToDto) })
    const waitMs = (request.query.timeout ?? 86_400) * 1000
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      services.engine.waitForJobs(ids).then(() => false),
      new Promise<true>((resolve) => { timer = setTimeout(() => resolve(true), waitMs) }),
    ])
    clearTimeout(timer)
    const jobs = ids.map((id) => services.jobs.get(id)).filter((j) => j !== undefined)
    const code = timedOut ? 504 : jobs.every((j) => j.status === 'succeeded') ? 200 : 502
    return reply.code(code).send({ jobs: jobs.map(jobToDto) })
  })
}
