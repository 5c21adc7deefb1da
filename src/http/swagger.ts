import type { FastifyInstance } from 'fastify'
import swagger from '@fastify/swagger'
import { createRequirementFixes } from './openapi-requirements.js'

export const API_VERSION = '1.0.0'

/**
 * Must be registered (and awaited) before any route: @fastify/swagger finds
 * routes through the onRoute hook. Nothing environment-dependent goes in the
 * document, so the committed openapi/openapi.json can be compared byte for byte.
 */
export async function registerSwagger (app: FastifyInstance): Promise<void> {
  const requirements = createRequirementFixes()
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'syncplane',
        version: API_VERSION,
        description: 'Real-time directory replication with rsync, steered over HTTP.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: the service that serves the document (Swagger UI at /docs
      // tries requests there), wherever api.host and api.port put it.
      servers: [{ url: '/', description: 'This syncplane (api.host:api.port; 127.0.0.1:8787 by default)' }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Required on /v1/* and /metrics when api.token (or tokenFile, or SYNCPLANE_API_TOKEN) is set' },
        },
      },
      tags: [
        { name: 'probes', description: 'Liveness and readiness for load balancers and orchestrators' },
        { name: 'status', description: 'What the watcher and each target are doing' },
        { name: 'watch', description: 'Pause and resume watching' },
        { name: 'sync', description: 'Full resyncs' },
        { name: 'targets', description: 'One target at a time: pause, resume, the paths it still lacks' },
        { name: 'jobs', description: 'History of every rsync run' },
        { name: 'metrics', description: 'Prometheus metrics' },
        { name: 'ui', description: 'The status page for a browser (/ui)' },
        { name: 'mesh', description: 'The mesh: peers, conflicts, held local deletions' },
      ],
    },
    hideUntagged: true,
    // Every /v1 operation takes the bearer token; probes do not.
    transform: ({ schema, url, route }) => {
      requirements.noteRoute(route)
      if (!url.startsWith('/v1/') || schema === undefined) return { schema, url }
      return { schema: { ...schema, security: [{ bearerAuth: [] }] }, url }
    },
    // Paths are listed in the order routes are registered. Before /v1 became
    // one plugin, /metrics was registered before the event stream; keep that
    // order so the published document stays byte for byte what clients have.
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject
      const doc = document.openapiObject
      if (doc.paths !== undefined) {
        requirements.apply(doc.paths as Parameters<typeof requirements.apply>[0])
        doc.paths = metricsBeforeEvents(doc.paths)
      }
      return doc
    },
    refResolver: {
      // Name components after their $id instead of def-0, def-1, … (order-dependent).
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  })
}

function metricsBeforeEvents<T> (paths: Record<string, T>): Record<string, T> {
  const { '/metrics': metrics, ...rest } = paths
  if (metrics === undefined || !('/v1/events' in rest)) return paths
  const ordered: Record<string, T> = {}
  for (const [url, item] of Object.entries(rest)) {
    if (url === '/v1/events') ordered['/metrics'] = metrics
    ordered[url] = item
  }
  return ordered
}
