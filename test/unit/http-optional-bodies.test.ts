import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { buildApp } from '../../src/app.js'
import type { AppServices } from '../../src/http/services.js'

test('a POST without a body is one with {}: the schema defaults fill it', async (t) => {
  const asked: Array<[string, unknown]> = []
  // Only what these routes call; anything else would answer 500 and fail the test.
  const services = {
    metrics: { observeRequest: () => undefined },
    engine: {
      flush: async (req: unknown) => { asked.push(['flush', req]); return { done: true, jobs: [] } },
      requestFullSync: (req: unknown) => { asked.push(['resync', req]); return [] },
    },
  } as unknown as AppServices
  const app = await buildApp({ services, logger: pino({ level: 'silent' }) })
  t.after(() => app.close())

  assert.equal((await app.inject({ method: 'POST', url: '/v1/flush' })).statusCode, 200)
  assert.equal((await app.inject({ method: 'POST', url: '/v1/resync' })).statusCode, 202)
  assert.deepEqual(asked, [
    ['flush', { targets: undefined, paths: undefined, timeoutMs: 60_000 }],
    ['resync', { targets: undefined, force: undefined, trigger: 'api', requestedBy: '127.0.0.1' }],
  ])
})
