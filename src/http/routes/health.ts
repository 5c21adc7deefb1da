import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthSchema, ReadinessSchema } from '../schemas/control.js'
import { problemResponses, ref } from '../schemas/common.js'
import type { RouteOptions } from '../services.js'

export const healthRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/healthz', {
    schema: {
      operationId: 'getHealth',
      tags: ['probes'],
      summary: 'Liveness: the process answers',
      // Open even when a token is set: load balancers carry none.
      security: [],
      response: { 200: HealthSchema, ...problemResponses },
    },
    // Probes hit this every few seconds; keep it out of the info log.
    logLevel: 'warn',
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      operationId: 'getReadiness',
      tags: ['probes'],
      summary: 'Readiness: the watcher is established and the database answers',
      security: [],
      response: { 200: ref(ReadinessSchema), 503: ref(ReadinessSchema), ...problemResponses },
    },
    logLevel: 'warn',
  }, async (_request, reply) => {
    const r = services.readiness()
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', checks: r.checks })
  })
}
