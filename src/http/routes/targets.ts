import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { PendingPageSchema, PendingQuery, TargetNameParams, TargetPauseSchema } from '../schemas/targets.js'
import { problemResponses, ref } from '../schemas/common.js'
import { iso } from '../dto.js'
import type { RouteOptions } from '../services.js'

/** One target at a time: its pause apart from the global one, and the paths it still lacks. */
export const targetRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.post('/targets/:name/pause', {
    schema: {
      operationId: 'pauseTarget',
      tags: ['targets'],
      summary: 'Stop sending to one target; its changes are still recorded. Idempotent, kept across restarts',
      description: 'An operator\'s resync still runs on a paused target, as with the global pause. To stop a run going on, cancel its job (`POST /v1/jobs/{id}/cancel`).',
      params: TargetNameParams,
      response: { 200: ref(TargetPauseSchema), ...problemResponses },
    },
  }, async (request) => ({ target: request.params.name, paused: true, changed: services.engine.pauseTarget(request.params.name) }))

  app.post('/targets/:name/resume', {
    schema: {
      operationId: 'resumeTarget',
      tags: ['targets'],
      summary: 'Send one target what was recorded while it was paused, and carry on. Idempotent',
      params: TargetNameParams,
      response: { 200: ref(TargetPauseSchema), ...problemResponses },
    },
  }, async (request) => ({ target: request.params.name, paused: false, changed: services.engine.resumeTarget(request.params.name) }))

  app.get('/targets/:name/pending', {
    schema: {
      operationId: 'listTargetPending',
      tags: ['targets'],
      summary: 'The paths one target still lacks, sorted by path and paged',
      params: TargetNameParams,
      querystring: PendingQuery,
      response: { 200: ref(PendingPageSchema), ...problemResponses },
    },
  }, async (request) => {
    const page = services.engine.pendingOf(request.params.name, request.query)
    return { ...page, items: page.items.map((i) => ({ path: i.path, since: iso(i.since) })) }
  })
}
