import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { StatusSchema, WatchStateSchema } from '../schemas/control.js'
import { problemResponses, ref } from '../schemas/common.js'
import { statusToDto } from '../dto.js'
import type { RouteOptions } from '../services.js'

export const controlRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/status', {
    schema: {
      operationId: 'getStatus',
      tags: ['status'],
      summary: 'Version, watcher and database state and, per target, backlog, state and last outcome',
      response: { 200: ref(StatusSchema), ...problemResponses },
    },
  }, async () => ({ ...statusToDto(services.engine.status(), services.database(), services.about), ...(services.mesh === undefined ? {} : { mesh: services.mesh.status() }) }))

  app.post('/watch/pause', {
    schema: {
      operationId: 'pauseWatching',
      tags: ['watch'],
      summary: 'Stop syncing watched changes (they are still recorded). Idempotent',
      response: { 200: ref(WatchStateSchema), ...problemResponses },
    },
  }, async () => ({ paused: true, changed: services.engine.pause() }))

  app.post('/watch/resume', {
    schema: {
      operationId: 'resumeWatching',
      tags: ['watch'],
      summary: 'Sync everything recorded while paused and carry on. Idempotent',
      response: { 200: ref(WatchStateSchema), ...problemResponses },
    },
  }, async () => ({ paused: false, changed: services.engine.resume() }))
}
