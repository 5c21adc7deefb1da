import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import type { AppServices } from '../../src/http/services.js'

const TOKEN = 'correct-horse-battery-staple-42'

// Only what the answers below need: a route that reached anything else would answer 500 and fail the test.
const services = {
  metrics: { contentType: 'text/plain', render: async () => 'syncplane_up 1\n', observeRequest: () => undefined },
} as unknown as AppServices

const build = (apiToken: string | undefined) => buildApp({ services, logger: pino({ level: 'silent' }), apiToken })

test('with a token, everything under /v1 and /metrics asks for it, known route or not', async (t) => {
  const app = await build(TOKEN)
  t.after(() => app.close())
  for (const url of ['/v1', '/v1/', '/v1/status', '/v1/status/', '/v1/no-such-route', '/metrics', '/metrics?name=x']) {
    const res = await app.inject({ url })
    assert.equal(res.statusCode, 401, url)
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="syncplane"', url)
    assert.equal(res.json().code, 'UNAUTHORIZED', url)
  }
  const metrics = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(metrics.statusCode, 200)
})

test('with a token, probes, the API description and unknown paths outside /v1 stay open', async (t) => {
  const app = await build(TOKEN)
  t.after(() => app.close())
  for (const [url, status] of [['/healthz', 200], ['/openapi.json', 200], ['/docs', 200], ['/nope', 404], ['/metrics/', 404], ['/V1/status', 404]] as const) {
    assert.equal((await app.inject({ url })).statusCode, status, url)
  }
})

test('without a token nothing asks for one', async (t) => {
  const app = await build(undefined)
  t.after(() => app.close())
  assert.equal((await app.inject({ url: '/metrics' })).statusCode, 200)
  const unknown = await app.inject({ url: '/v1/no-such-route' })
  assert.equal(unknown.statusCode, 404)
  assert.equal(unknown.json().detail, 'no route for GET /v1/no-such-route')
})
