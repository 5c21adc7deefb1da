import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ResyncBody, ResyncQuery, ResyncResultSchema } from '../schemas/control.js'
import { Problem, problemResponses, ref } from '../schemas/common.js'
import { jobToDto } from '../dto.js'
import { absentBodyIsEmpty } from '../optional-body.js'
import type { AppServices, RouteOptions } from '../services.js'

export const resyncRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.post('/resync', {
    schema: {
      operationId: 'resync',
      tags: ['sync'],
      summary: 'Queue a full mirror (rsync --delete) of the source to some or all targets, or preview one',
      description: 'Answers 202 with the queued jobs. With `wait=true` it answers when they finished: 200 if all succeeded, 502 with the jobs if any did not, 409 with `deletesHeld` if a target holds deletions (the mass-delete guard or a source fault kept them back: preview with `dryRun`, then confirm them or resync with `force`), 504 if `timeout` passed first (the jobs go on). A target that already has a full sync queued answers with that job. With `dryRun: true` nothing changes: 200 with what a forced mirror would send and delete per target (`rsync -n`). 409 `SOURCE_UNAVAILABLE` while the source root is missing or its marker is.',
      querystring: ResyncQuery,
      body: ResyncBody,
      response: {
        200: ref(ResyncResultSchema),
        202: ref(ResyncResultSchema),
        // Held deletions after a wait, or a problem (the source unavailable).
        409: {
          description: 'A target holds deletions (`deletesHeld`), or a problem such as SOURCE_UNAVAILABLE',
          content: { 'application/json': { schema: ref(ResyncResultSchema) }, 'application/problem+json': { schema: ref(Problem) } },
        },
        502: ref(ResyncResultSchema),
        504: ref(ResyncResultSchema),
        ...problemResponses,
      },
    },
    preValidation: absentBodyIsEmpty,
  }, async (request, reply) => {
    const body = request.body ?? {}
    if (body.dryRun === true) {
      const preview = await services.engine.previewFullSync(body.targets, request.query.limit)
      return reply.code(200).send({ jobs: [], preview })
    }
    const queued = services.engine.requestFullSync({ targets: body.targets, force: body.force, trigger: 'api', requestedBy: request.ip })
    if (!request.query.wait) return reply.code(202).send({ jobs: queued.map(jobToDto) })
    const waited = await services.engine.waitForFullSync(queued, (request.query.timeout ?? 86_400) * 1000)
    const { jobs, deletesHeld } = waited
    return reply.code(statusAfterWait(waited)).send({ jobs: jobs.map(jobToDto), ...(deletesHeld.length > 0 ? { deletesHeld } : {}) })
  })
}

/** 504 still running, 502 a job failed, 409 a target holds deletions, 200 all done. */
function statusAfterWait ({ done, jobs, deletesHeld }: Awaited<ReturnType<AppServices['engine']['waitForFullSync']>>): number {
  if (!done) return 504
  if (!jobs.every((j) => j.status === 'succeeded')) return 502
  return deletesHeld.length > 0 ? 409 : 200
}
