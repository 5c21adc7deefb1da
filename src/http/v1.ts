import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bearerAuth } from './auth.js'
import { notFoundHandler } from './problem.js'
import { controlRoutes } from './routes/control.js'
import { resyncRoutes } from './routes/resync.js'
import { deletesRoutes } from './routes/deletes.js'
import { targetRoutes } from './routes/targets.js'
import { flushRoutes } from './routes/flush.js'
import { jobRoutes } from './routes/jobs.js'
import { eventRoutes } from './routes/events.js'
import { meshRoutes } from './routes/mesh.js'
import type { AuthOptions } from './services.js'

/**
 * Version 1 of the API, registered with `prefix: '/v1'`. Encapsulated, so
 * the token check (when a token is set) applies to these routes only. The
 * 404 handler is set inside the same scope so that it runs the check too:
 * an unknown /v1 path asks for the token before it says there is no such
 * route, and nothing under /v1 answers a caller without one.
 */
export const v1Routes: FastifyPluginAsyncTypebox<AuthOptions> = async (app, { services, apiToken }) => {
  if (apiToken !== undefined) app.addHook('onRequest', bearerAuth(apiToken))
  app.setNotFoundHandler(notFoundHandler)
  await app.register(controlRoutes, { services })
  await app.register(resyncRoutes, { services })
  await app.register(deletesRoutes, { services })
  await app.register(targetRoutes, { services })
  await app.register(flushRoutes, { services })
  await app.register(jobRoutes, { services })
  await app.register(eventRoutes, { services })
  await app.register(meshRoutes, { services })
}
