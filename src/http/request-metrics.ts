import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AppServices } from './services.js'

/**
 * The route label of a request no route matched (an unknown path, a
 * malformed URL): one value for all of them, so a scanner trying random
 * paths cannot grow the series without bound.
 */
export const UNMATCHED_ROUTE = 'unmatched'

/**
 * An onResponse hook that times every answered request by its route's
 * template (`/v1/jobs/:id`, never `/v1/jobs/42`). A hijacked reply (the
 * event stream) never runs it: a stream's lifetime is no latency.
 */
export function timeRequests (metrics: Pick<AppServices['metrics'], 'observeRequest'>) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    metrics.observeRequest({
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode),
    }, reply.elapsedTime / 1000)
  }
}
