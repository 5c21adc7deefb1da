import Fastify, { type FastifyBaseLogger } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Problem } from './http/schemas/common.js'
import { JobDetailSchema, JobListSchema, JobSchema } from './http/schemas/jobs.js'
import { ConfirmDeletesResultSchema, ReadinessSchema, ResyncResultSchema, StatusSchema } from './http/schemas/control.js'
import { errorHandler, notFoundHandler } from './http/problem.js'
import { registerSwagger } from './http/swagger.js'
import { registerAuth } from './http/auth.js'
import { healthRoutes } from './http/routes/health.js'
import { controlRoutes } from './http/routes/control.js'
import { resyncRoutes } from './http/routes/resync.js'
import { deletesRoutes } from './http/routes/deletes.js'
import { jobRoutes } from './http/routes/jobs.js'
import { flushRoutes } from './http/routes/flush.js'
import { metricsRoutes } from './http/routes/metrics.js'
import { eventRoutes } from './http/routes/events.js'
import type { AppServices } from './http/services.js'

export interface BuildAppOptions {
  services: AppServices
  logger: FastifyBaseLogger
  /** Take the client address from X-Forwarded-For (api.trustProxy). */
  trustProxy?: boolean
  /** When set, /v1/* and /metrics require `Authorization: Bearer <apiToken>`. */
  apiToken?: string | undefined
}

/** The HTTP face of syncplane. Never listens: server.ts does, tests inject. */
export async function buildApp ({ services, logger, trustProxy = false, apiToken }: BuildAppOptions) {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 64 * 1024,
    // Report every invalid field, not just the first; refuse unknown ones
    // instead of silently dropping them (a typo must not look like success).
    ajv: { customOptions: { allErrors: true, removeAdditional: false } },
    return503OnClosing: true,
    // Event streams never end by themselves; shutdown must not wait for them.
    forceCloseConnections: true,
    // Router-level errors (an over-long parameter, a malformed URL) get the one error shape too.
    frameworkErrors: (err, request, reply) => errorHandler(err, request, reply),
    trustProxy,
  }).withTypeProvider<TypeBoxTypeProvider>()

  for (const schema of [Problem, JobSchema, JobDetailSchema, JobListSchema, ReadinessSchema, StatusSchema, ResyncResultSchema, ConfirmDeletesResultSchema]) {
    app.addSchema(schema)
  }
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  if (apiToken !== undefined) registerAuth(app, apiToken)
  await registerSwagger(app)

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(healthRoutes, { services })
  await app.register(controlRoutes, { services })
  await app.register(resyncRoutes, { services })
  await app.register(deletesRoutes, { services })
  await app.register(flushRoutes, { services })
  await app.register(jobRoutes, { services })
  await app.register(metricsRoutes, { services })
  await app.register(eventRoutes, { services })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
