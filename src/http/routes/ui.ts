import { readFile } from 'node:fs/promises'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { packageFile } from '../../package-dir.js'
import { problemResponses } from '../schemas/common.js'

/** The page's files, beside src/ and dist/ alike (the package ships ui/ as it is: no build step). */
const UI_DIR = packageFile('ui/')

/**
 * Nothing but this origin's own files: no inline script or style, no other
 * origin, no framing. The page reads the API with fetch() (the same origin)
 * and puts every name from the tree in as text.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const FILES = {
  '/ui': { file: 'index.html', type: 'text/html; charset=utf-8', operationId: 'getStatusPage', summary: 'The status page (HTML)' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8', operationId: 'getStatusPageScript', summary: 'The status page\'s script' },
  '/ui/app.css': { file: 'app.css', type: 'text/css; charset=utf-8', operationId: 'getStatusPageStyle', summary: 'The status page\'s style sheet' },
  '/ui/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml', operationId: 'getStatusPageIcon', summary: 'The status page\'s icon' },
} as const

/**
 * The status page at /ui (and / redirects there). Open without the token:
 * the files hold no data (the page is told only whether a token is
 * required); the page asks for the token and sends it with each API call.
 */
export const uiRoutes: FastifyPluginAsyncTypebox<{ tokenRequired: boolean }> = async (app, { tokenRequired }) => {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CSP)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    reply.header('cache-control', 'no-cache')
  })
  for (const [url, { file, type, operationId, summary }] of Object.entries(FILES)) {
    // Whether to ask for the token before the first call (which would otherwise fail, logged in the console).
    const body = (await readFile(new URL(file, UI_DIR), 'utf8')).replace('{{token}}', tokenRequired ? 'required' : 'none')
    app.get(url, {
      schema: {
        operationId,
        tags: ['ui'],
        summary,
        security: [],
        response: { 200: { description: summary, content: { [type.split(';')[0]!]: { schema: Type.String() } } }, ...problemResponses },
      },
      logLevel: 'warn',
    }, async (_request, reply) => reply.type(type).send(body))
  }
  app.get('/', {
    schema: {
      operationId: 'getRoot',
      tags: ['ui'],
      summary: 'Redirects to the status page',
      // Not in the document: an operation that only redirects has no 2xx answer to describe.
      hide: true,
      security: [],
      response: { 302: { description: 'To /ui', type: 'null' }, ...problemResponses },
    },
    logLevel: 'warn',
  }, async (_request, reply) => reply.redirect('/ui'))
}
