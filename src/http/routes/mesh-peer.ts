import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SyncplaneError } from '../../errors.js'
import { bearerAuth } from '../auth.js'
import { notFoundHandler } from '../problem.js'
import { problemResponses } from '../schemas/common.js'
import { ApplyResultSchema, ManifestSchema } from '../schemas/mesh.js'
import type { RouteOptions } from '../services.js'

/** A manifest of the largest batch (mesh.maxEntries at its maximum) fits. */
const MANIFEST_LIMIT = 64 * 1024 * 1024

/**
 * What peers call on each other, registered with `prefix: '/mesh/v1'` only
 * on a node with a mesh, behind the mesh secret (never the operators' token).
 */
export const meshPeerRoutes: FastifyPluginAsyncTypebox<RouteOptions & { secret: string }> = async (app, { services, secret }) => {
  app.addHook('onRequest', bearerAuth(secret))
  app.setNotFoundHandler(notFoundHandler)
  const mesh = services.mesh!

  app.post('/apply', {
    bodyLimit: MANIFEST_LIMIT,
    schema: {
      operationId: 'meshApply',
      tags: ['mesh-peer'],
      summary: 'A peer\'s batch: the versions whose bytes it just pushed into this node\'s staging directory',
      body: ManifestSchema,
      response: { 200: ApplyResultSchema, ...problemResponses },
    },
  }, async (request) => {
    const outcomes = await mesh.apply(request.body)
    if (outcomes === 'unknown-peer') throw new SyncplaneError('UNKNOWN_PEER', `"${request.body.from}" is not a peer of this node`)
    return { outcomes }
  })

  app.get('/digest', {
    schema: {
      operationId: 'meshDigest',
      tags: ['mesh-peer'],
      summary: 'Digests of what this node holds, in 256 buckets (a peer\'s repair compares them with its own)',
      response: { 200: Type.Object({ buckets: Type.Array(Type.String()) }), ...problemResponses },
    },
  }, async () => ({ buckets: mesh.digest() }))

  app.post('/index', {
    schema: {
      operationId: 'meshIndex',
      tags: ['mesh-peer'],
      summary: 'The versions this node holds in the named buckets',
      body: Type.Object({ buckets: Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), { maxItems: 256 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ entries: Type.Array(Type.Object({ path: Type.String(), vv: Type.Record(Type.String(), Type.Integer()), deleted: Type.Boolean() })) }), ...problemResponses },
    },
  }, async (request) => ({ entries: mesh.index(request.body.buckets) }))

  app.get('/hello', {
    schema: {
      operationId: 'meshHello',
      tags: ['mesh-peer'],
      summary: 'A peer checks this node is up',
      querystring: Type.Object({ from: Type.Optional(Type.String({ maxLength: 64 })) }),
      response: { 200: Type.Object({ self: Type.String() }), ...problemResponses },
    },
  }, async (request) => {
    if (request.query.from !== undefined) mesh.heard(request.query.from)
    return { self: mesh.status().self }
  })
}
