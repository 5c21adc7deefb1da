import Fastify, { type FastifyBaseLogger } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { COMPONENTS } from './http/schemas/components.js'
import { errorHandler, notFoundHandler } from './http/problem.js'
import { docsRoutes } from './http/routes/docs.js'
import { uiRoutes } from './http/routes/ui.js'
import { registerSwagger } from './http/swagger.js'
import { timeRequests } from './http/request-metrics.js'
import { healthRoutes } from './http/routes/health.js'
import { metricsRoutes } from './http/routes/metrics.js'
import { v1Routes } from './http/v1.js'
import { meshPeerRoutes } from './http/routes/mesh-peer.js'
import type { AppServices } from './http/services.js'

export interface BuildAppOptions {
  services: AppServices
  logger: FastifyBaseLogger
  /** Take the client address from X-Forwarded-For (api.trustProxy). */
  trustProxy?: boolean
  /** When set, /v1/* and /metrics require `Authorization: Bearer <apiToken>`. */
  apiToken?: string | undefined
  /** On a mesh node: the secret peers present on /mesh/v1/*. */
  meshSecret?: string | undefined
}

/** The HTTP face of syncplane. Never listens: server.ts does, tests inject. */
export async function buildApp ({ services, logger, trustProxy = false, apiToken, meshSecret }: BuildAppOptions) {
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

  for (const schema of COMPONENTS) app.addSchema(schema)
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  // On the root, before any route: every scope inherits it, 404s and 401s included.
  app.addHook('onResponse', timeRequests(services.metrics))
  await registerSwagger(app)

  // Open: probes and the API description. Behind the token, when one is set: /v1 and /metrics.
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  await app.register(healthRoutes, { services })
  await app.register(uiRoutes, { tokenRequired: apiToken !== undefined })
  await app.register(docsRoutes)
  await app.register(v1Routes, { prefix: '/v1', services, apiToken })
  await app.register(metricsRoutes, { services, apiToken })
  if (services.mesh !== undefined && meshSecret !== undefined) await app.register(meshPeerRoutes, { prefix: '/mesh/v1', services, secret: meshSecret })
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
