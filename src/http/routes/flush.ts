import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { FlushBody, ResyncResultSchema } from '../schemas/control.js'
import { problemResponses, ref } from '../schemas/common.js'
import { jobToDto } from '../dto.js'
import { absentBodyIsEmpty } from '../optional-body.js'
import type { RouteOptions } from '../services.js'

export const flushRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.post('/flush', {
    schema: {
      operationId: 'flush',
      tags: ['sync'],
      summary: 'Wait until every change observed before this call is on every named target (and, on a mesh node, on every peer)',
      description: 'A barrier: answers 200 with the runs that carried the changes once every named target confirmed them, 504 if `timeout` passed first (the work goes on), 409 while watching is paused. Name `paths` you just wrote so they count at once. Without `paths`, every write completed before the call counts: the watcher first reports a sentinel entry (`.syncplane-flush-<random>`, created in the source and removed again, never replicated) through its own event queue, so it has read every earlier event. That guarantee holds on Linux with the parcel backend and with chokidar without polling; with chokidar polling, or when the source is not writable, the flush waits a fixed time instead (two poll intervals, or 1 s) and may answer before a very recent write is seen. Concurrent flushes share rsync runs.',
      body: FlushBody,
      response: { 200: ref(ResyncResultSchema), 504: ref(ResyncResultSchema), ...problemResponses },
    },
    preValidation: absentBodyIsEmpty,
  }, async (request, reply) => {
    const { targets, paths, timeout } = request.body
    const [result, mesh] = await Promise.all([
      services.engine.flush({ targets, paths, timeoutMs: timeout * 1000 }),
      services.mesh?.flush({ paths, timeoutMs: timeout * 1000 }),
    ])
    const done = result.done && (mesh?.done ?? true)
    return reply.code(done ? 200 : 504).send({ jobs: result.jobs.map(jobToDto), ...(mesh === undefined ? {} : { mesh }) })
  })
}
