import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { problemResponses } from '../schemas/common.js'
import { jobToDto } from '../dto.js'
import type { LoggedEvent } from '../../sync/event-log.js'
import type { Job } from '../../db/job-store.js'
import type { RouteOptions } from '../services.js'

const HEARTBEAT_MS = 15_000
/**
 * What a client may leave unread before it is cut off: a stalled reader
 * (a laptop asleep, a proxy buffering) would otherwise have every event
 * queued in this process without bound. It reconnects with Last-Event-ID
 * and resumes from the event buffer, or is told how many it missed.
 */
export const SLOW_CLIENT_BYTES = 1024 * 1024

function frame (event: LoggedEvent): string {
  const data = event.data.job === undefined ? event.data : { ...event.data, job: jobToDto(event.data.job as Job) }
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify({ at: new Date(event.at).toISOString(), ...data })}\n\n`
}

export const eventRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get('/events', {
    schema: {
      operationId: 'streamEvents',
      tags: ['status'],
      summary: 'Server-Sent Events: jobs queued, started and finished; pause and resume; watcher degraded; target state changes',
      description: 'Each event has an increasing id. Reconnect with the Last-Event-ID header (or ?lastEventId=) to resume from a bounded buffer; a client that fell further behind first gets an `events.missed` event saying how many it lost (re-read /v1/status then). A client that leaves more than 1 MiB unread is disconnected (it resumes the same way).',
      querystring: Type.Object({
        lastEventId: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
      }, { additionalProperties: false }),
      headers: Type.Object({
        'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,15}$' })),
      }),
      response: {
        200: { description: 'An endless text/event-stream', content: { 'text/event-stream': { schema: Type.String() } } },
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const header = request.headers['last-event-id']
    const lastId = request.query.lastEventId ?? (header === undefined ? services.events.lastId() : Number(header))
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    // Node holds the head until the first body write: a client with nothing
    // to replay would see no answer until an event or the first heartbeat.
    res.flushHeaders()
    const { events, missed } = services.events.since(lastId)
    if (missed > 0) res.write(`event: events.missed\ndata: ${JSON.stringify({ missed, hint: 'the buffer no longer holds them; re-read /v1/status' })}\n\n`)
    for (const event of events) res.write(frame(event))
    const send = (text: string): void => {
      if (res.destroyed) return
      if (res.writableLength > SLOW_CLIENT_BYTES) {
        request.log.warn({ unread: res.writableLength }, 'an event stream client reads too slowly: cut off (it resumes with Last-Event-ID)')
        res.destroy()
        return
      }
      res.write(text)
    }
    const stop = services.events.listen((event) => send(frame(event)))
    const heartbeat = setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS)
    request.raw.on('close', () => {
      stop()
      clearInterval(heartbeat)
    })
  })
}
