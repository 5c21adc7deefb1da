import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { problemResponses } from '../schemas/common.js'
import { bearerAuth } from '../auth.js'
import type { AuthOptions } from '../services.js'

/** Outside /v1 (Prometheus expects /metrics), but behind the same token: its own scope, its own hook. */
export const metricsRoutes: FastifyPluginAsyncTypebox<AuthOptions> = async (app, { services, apiToken }) => {
  if (apiToken !== undefined) app.addHook('onRequest', bearerAuth(apiToken))
  app.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      tags: ['metrics'],
      summary: 'Prometheus metrics (text exposition format)',
      security: [{ bearerAuth: [] }],
      response: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } },
        ...problemResponses,
      },
    },
    logLevel: 'warn',
  }, async (_request, reply) => {
    return reply.type(services.metrics.contentType).send(await services.metrics.render())
  })
}
