import { createHash, timingSafeEqual } from 'node:crypto'
import type { onRequestAsyncHookHandler } from 'fastify'
import { problem, sendProblem } from './problem.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/**
 * The bearer-token check, as an onRequest hook for the scopes that need it
 * (/v1 and /metrics); probes and the API description are registered outside
 * them, since load balancers and humans reading docs carry no token. Both
 * sides are hashed first so the comparison takes the same time whatever the
 * token's length or content.
 */
export function bearerAuth (token: string): onRequestAsyncHookHandler {
  const expected = digest(token)
  return async (request, reply) => {
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (match && timingSafeEqual(digest(match[1]!), expected)) return
    reply.header('www-authenticate', `Bearer realm="syncplane"${header === '' ? '' : ', error="invalid_token"'}`)
    return sendProblem(reply, problem('UNAUTHORIZED', header === ''
      ? 'this endpoint needs an Authorization: Bearer <token> header'
      : 'the bearer token is not valid'))
  }
}
