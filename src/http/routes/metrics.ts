import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { problemResponses } from '../schemas/common.js'
import type { RouteOptions } from '../services.js'

export const metricsRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
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
