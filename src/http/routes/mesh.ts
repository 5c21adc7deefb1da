import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SyncplaneError } from '../../errors.js'
import { problemResponses, ref } from '../schemas/common.js'
import { ConflictListSchema, ConflictQuery, MeshConfirmBody, MeshStatusSchema } from '../schemas/mesh.js'
import type { AppServices, RouteOptions } from '../services.js'

function meshOf (services: AppServices): NonNullable<AppServices['mesh']> {
  if (services.mesh === undefined) throw new SyncplaneError('MESH_NOT_CONFIGURED', 'this node has no mesh configured (the mesh section of its configuration)')
  return services.mesh
}

/** The operator's view of the mesh: peers, conflicts, held deletions. */
export const meshRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/mesh', {
    schema: {
      operationId: 'getMesh',
      tags: ['mesh'],
      summary: 'This node\'s mesh: every peer with what it is owed, the conflicts, held deletions',
      response: { 200: ref(MeshStatusSchema), ...problemResponses },
    },
  }, async () => meshOf(services).status())

  app.get('/mesh/conflicts', {
    schema: {
      operationId: 'listConflicts',
      tags: ['mesh'],
      summary: 'Conflicts this node resolved, newest first: where each losing version is kept',
      querystring: ConflictQuery,
      response: { 200: ConflictListSchema, ...problemResponses },
    },
  }, async (request) => {
    const { total, items } = meshOf(services).conflicts(request.query.limit)
    return { total, items: items.map((c) => ({ id: c.id, path: c.path, copy: c.copy, winner: c.winner, loser: c.loser, resolvedAt: new Date(c.resolvedAt).toISOString() })) }
  })

  app.post('/mesh/repair', {
    schema: {
      operationId: 'repairMesh',
      tags: ['mesh'],
      summary: 'Compare this node with every peer now and send each what it lacks (runs by itself every mesh.repairSec)',
      description: 'Never deletes anything by itself: a deletion reaches a peer only as the tombstone of a version that peer had, by the usual rule.',
      response: { 200: Type.Object({ peers: Type.Array(Type.Object({ peer: Type.String(), queued: Type.Integer(), error: Type.Optional(Type.String()) })) }), ...problemResponses },
    },
  }, async () => ({ peers: await meshOf(services).repair() }))

  app.post('/mesh/deletes/confirm', {
    schema: {
      operationId: 'confirmMeshDeletes',
      tags: ['mesh'],
      summary: 'Let the local deletions the mass-delete guard holds go to the peers',
      description: 'A scan that finds more deletions than `deletes.maxFiles` (or `deletes.maxPercent` of the tree above `deletes.minFiles`) records none of them. 409 `NO_DELETES_HELD` when none are held, `DELETES_CHANGED` when `expected` is not the count held now.',
      body: MeshConfirmBody,
      response: { 200: ref(MeshStatusSchema), ...problemResponses },
    },
  }, async (request) => {
    const mesh = meshOf(services)
    const outcome = mesh.confirmDeletes(request.body.expected)
    if (outcome === 'none') throw new SyncplaneError('NO_DELETES_HELD', 'this node holds no local deletions')
    if (outcome === 'changed') throw new SyncplaneError('DELETES_CHANGED', `the held count is ${mesh.status().deletesHeld?.count ?? 0}, not ${request.body.expected}`)
    return mesh.status()
  })
}
