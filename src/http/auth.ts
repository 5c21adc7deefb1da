import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { problem, sendProblem } from './problem.js'

/** Probes and the API description stay open: load balancers and humans reading docs carry no token. */
const PROTECTED = /^\/(?:v1\/|v1$|metrics(?:$|\?))/

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/**
 * Bearer-token check for /v1/* and /metrics. Both sides are hashed first so
 * the comparison takes the same time whatever the token's length or content.
 */
export function registerAuth (app: FastifyInstance, token: string): void {
  const expected = digest(token)
  app.addHook('onRequest', async (request, reply) => {
    if (!PROTECTED.test(request.url)) return
    const header = request.headers.authorization ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (match && timingSafeEqual(digest(match[1]!), expected)) return
    reply.header('www-authenticate', `Bearer realm="syncplane"${header === '' ? '' : ', error="invalid_token"'}`)
    return sendProblem(reply, problem('UNAUTHORIZED', header === ''
      ? 'this endpoint needs an Authorization: Bearer <token> header'
      : 'the bearer token is not valid'))
  })
}
