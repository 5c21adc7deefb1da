import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplaneTo } from '../helpers/syncplane.js'
import { createEventLog } from '../../src/sync/event-log.js'
import type { EngineEvent } from '../../src/sync/engine.js'

interface Sse { id?: number; event: string; data: Record<string, any> }

/** Reads an SSE stream over a real socket, collecting parsed events. */
async function openStream (url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const res = await fetch(url, { headers, signal: controller.signal })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
  const events: Sse[] = []
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        text += value
        let end
        while ((end = text.indexOf('\n\n')) !== -1) {
          const block = text.slice(0, end)
          text = text.slice(end + 2)
          const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]))
          if (fields.event) events.push({ id: fields.id === undefined ? undefined : Number(fields.id), event: fields.event, data: JSON.parse(fields.data ?? '{}') })
        }
      }
    } catch {
      // Aborted by close().
    }
  })()
  return { events, close: async () => { controller.abort(); await pump } }
}

test('GET /v1/events answers at once, streams job and watch events with increasing ids, and resumes from Last-Event-ID', async (t) => {
  const { sp } = await startSyncplaneTo(t, 'local', { name: 'backup', config: { fullSync: { onStart: false } } })
  await sp.app.listen({ host: '127.0.0.1', port: 0 })
  const address = sp.app.server.address() as { port: number }
  const url = `http://127.0.0.1:${address.port}/v1/events`

  // Nothing to replay yet: the head still comes at once, not with the first heartbeat (15 s).
  const opening = Date.now()
  const first = await openStream(url)
  assert.ok(Date.now() - opening < 10_000, `the stream opened ${Date.now() - opening} ms after the request, before any event`)
  await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true' })
  await sp.app.inject({ method: 'POST', url: '/v1/watch/pause' })
  await sp.app.inject({ method: 'POST', url: '/v1/watch/resume' })
  await waitFor(() => first.events.some((e) => e.event === 'watch.resumed'), { message: 'the events arrive' })
  await first.close()
  const types = first.events.map((e) => e.event)
  for (const type of ['job.queued', 'job.started', 'job.finished', 'target.state', 'watch.paused', 'watch.resumed']) assert.ok(types.includes(type), `${type} in ${types.join(',')}`)
  const ids = first.events.map((e) => e.id!)
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b))
  assert.equal(new Set(ids).size, ids.length)
  const finished = first.events.find((e) => e.event === 'job.finished')!
  assert.equal(finished.data.job.status, 'succeeded')
  assert.match(finished.data.job.createdAt, /^\d{4}-/)

  const resumed = await openStream(url, { 'last-event-id': String(ids[1]) })
  await waitFor(() => resumed.events.length >= ids.length - 2, { message: 'the replay arrives' })
  await resumed.close()
  assert.deepEqual(resumed.events.map((e) => e.id), ids.slice(2))
})

test('a client that fell behind the bounded buffer is told how many events it missed', () => {
  let emit: (e: EngineEvent) => void = () => undefined
  const engine = { subscribe: (l: (e: EngineEvent) => void) => { emit = l; return () => undefined }, status: () => ({ watcher: { state: 'running' as const, lastError: null }, sourceFault: null, paused: false, targets: [] }) }
  const log = createEventLog(engine, { capacity: 3 })
  for (let i = 0; i < 5; i++) emit({ type: 'watch.paused' })
  assert.deepEqual(log.since(0).events.map((e) => e.id), [3, 4, 5])
  assert.equal(log.since(0).missed, 2)
  assert.equal(log.since(3).missed, 0)
  assert.deepEqual(log.since(4).events.map((e) => e.id), [5])
})

test('a client that leaves more than 1 MiB of events unread is cut off; the others keep streaming', async (t) => {
  const { sp } = await startSyncplaneTo(t, 'local', { name: 'backup', config: { fullSync: { onStart: false } } })
  await sp.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = sp.app.server.address() as { port: number }
  // A reader that never reads: a raw socket, paused after the request.
  const stalled = connect(port, '127.0.0.1')
  stalled.write('GET /v1/events HTTP/1.1\r\nhost: x\r\n\r\n')
  stalled.pause()
  stalled.on('error', () => undefined)
  // The stalled side sees nothing (it reads nothing): the service says when it let it go.
  const cut = (): boolean => sp.logs.some((l) => l.includes('reads too slowly'))
  t.after(() => stalled.destroy())
  const live = await openStream(`http://127.0.0.1:${port}/v1/events`)
  t.after(() => live.close())
  let produced = 0
  await waitFor(async () => {
    // Pause and resume events, a few hundred at a time, until the stalled client is let go.
    for (let i = 0; i < 500; i++) {
      sp.services.http.engine.pause()
      sp.services.http.engine.resume()
      produced += 2
    }
    await new Promise((resolve) => setImmediate(resolve))
    return cut()
  }, { message: 'the stalled client is cut off', timeoutMs: 60_000 })
  t.diagnostic(`cut off after ${produced} events`)
  const before = live.events.length
  sp.services.http.engine.pause()
  sp.services.http.engine.resume()
  await waitFor(() => live.events.length >= before + 2, { message: 'the reading client still gets every event' })
})
