import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ConfirmDeletesBody, ConfirmDeletesResultSchema } from '../schemas/control.js'
import { problemResponses, ref } from '../schemas/common.js'
import { jobToDto } from '../dto.js'
import { absentBodyIsEmpty } from '../optional-body.js'
import type { RouteOptions } from '../services.js'

export const deletesRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.post('/targets/:name/deletes/confirm', {
    schema: {
      operationId: 'confirmDeletes',
      tags: ['sync'],
      summary: 'Release the deletions a target holds: a forced full mirror makes them',
      description: 'A target holds deletions when a run would have deleted more than `deletes.maxFiles` or `deletes.maxPercent` allow, or while the source root was unmounted or replaced. Preview them first with `POST /v1/resync {"dryRun": true}`. Answers 202 with the forced mirror\'s job; 409 `NO_DELETES_HELD` when the target holds none, `DELETES_CHANGED` when `expected` is not the count it holds now. When every target has released its deletions after a source fault, the directory now at the source path becomes the source. A forced resync (`POST /v1/resync {"force": true}`) confirms too.',
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
      body: ConfirmDeletesBody,
      response: { 202: ref(ConfirmDeletesResultSchema), ...problemResponses },
    },
    preValidation: absentBodyIsEmpty,
  }, async (request, reply) => {
    const { hold, job } = services.engine.confirmDeletes(request.params.name, { expected: request.body?.expected, requestedBy: request.ip })
    return reply.code(202).send({ job: jobToDto(job), count: hold.count })
  })
}
