import { createReadStream } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { problemResponses } from '../schemas/common.js'

/**
 * Swagger UI's files, served from the swagger-ui-dist package as they are,
 * streamed from disk on each request. The page is for an operator now and
 * then; @fastify/swagger-ui, which served it before, cost every process
 * about 4 MB with the static-file plugin it brought (docs/performance.md).
 */
const FILES = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
} as const

/** The page, with its files' URLs relative to /docs/ (a proxy may put the API under a prefix) or absolute from /docs. */
const page = (prefix: string): string => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>syncplane API</title>
<link rel="stylesheet" href="${prefix}/swagger-ui.css">
<link rel="stylesheet" href="${prefix}/index.css">
<link rel="icon" type="image/png" href="${prefix}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="${prefix}/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${prefix}/swagger-ui-bundle.js" charset="UTF-8"></script>
<script src="${prefix}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
<script src="${prefix}/swagger-initializer.js" charset="UTF-8"></script>
</body>
</html>
`

// The document beside /docs, wherever a proxy mounts the API.
const INITIALIZER = `window.onload = function () {
  var here = window.location.href.split('#', 1)[0].split('?', 1)[0]
  window.ui = SwaggerUIBundle({
    url: new URL(here.endsWith('/') ? '../openapi.json' : 'openapi.json', here).href,
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
    validatorUrl: null
  })
}
`

/** The files go out as streams, so the schema's type is one. */
const Body = Type.Unsafe<string | Readable>({ type: 'string' })

const hidden = (operationId: string, summary: string, type: string) => ({
  schema: {
    operationId,
    tags: ['ui'],
    summary,
    // Not in the document, as Swagger UI's own routes never were.
    hide: true,
    security: [],
    response: { 200: { description: summary, content: { [type.split(';')[0]!]: { schema: Body } } }, ...problemResponses },
  },
  logLevel: 'warn' as const,
})

/** Swagger UI at /docs (and /docs/), reading /openapi.json. */
export const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
  const html = 'text/html; charset=utf-8'
  const absolute = page('/docs/static')
  const relative = page('./static')
  app.get('/docs', hidden('getApiDocs', 'Swagger UI', html), async (_request, reply) => reply.type(html).send(absolute))
  app.get('/docs/', hidden('getApiDocsSlash', 'Swagger UI', html), async (_request, reply) => reply.type(html).send(relative))
  const js = 'text/javascript; charset=utf-8'
  app.get('/docs/static/swagger-initializer.js', hidden('getApiDocsInitializer', 'Swagger UI\'s start', js), async (_request, reply) => reply.type(js).send(INITIALIZER))
  for (const [file, type] of Object.entries(FILES)) {
    app.get(`/docs/static/${file}`, hidden(`getApiDocs${file.replace(/(?:^|\W)(\w)/g, (_m, c: string) => c.toUpperCase())}`, `Swagger UI's ${file}`, type), async (_request, reply) =>
      reply.type(type).header('cache-control', 'public, max-age=3600').send(createReadStream(path.join(dist, file))))
  }
}
