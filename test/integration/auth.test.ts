import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { ConfigError, parseConfig } from '../../src/config/load.js'
import { renderOpenApi } from '../../src/openapi.js'

const TOKEN = 'correct-horse-battery-staple-42'

describe('with api.token set', () => {
  let sp: SyncplaneHarness
  const teardown = suiteTeardown()
  before(async () => {
    const tmp = await makeTempDir(teardown)
    const target = await startTarget(tmp, 'local', 'backup')
    sp = await startSyncplane(tmp, { targets: [target.config], config: { api: { token: TOKEN }, fullSync: { onStart: false } } })
  })

  for (const [method, url] of [['GET', '/v1/status'], ['GET', '/v1/jobs'], ['POST', '/v1/watch/pause'], ['POST', '/v1/resync'], ['POST', '/v1/flush'], ['GET', '/metrics'], ['GET', '/v1/no-such-route']] as const) {
    test(`${method} ${url} without a token gets 401 problem+json with WWW-Authenticate`, async () => {
      const res = await sp.app.inject({ method, url })
      assert.equal(res.statusCode, 401)
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/)
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="syncplane"')
      assert.equal(res.json().code, 'UNAUTHORIZED')
    })
  }

  test('a wrong token is refused and says so', async () => {
    const res = await sp.app.inject({ url: '/v1/status', headers: { authorization: 'Bearer not-the-token' } })
    assert.equal(res.statusCode, 401)
    assert.match(res.headers['www-authenticate'] as string, /error="invalid_token"/)
  })

  test('the right token opens /v1', async () => {
    const res = await sp.app.inject({ url: '/v1/status', headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(res.statusCode, 200)
    assert.ok(!res.body.includes(TOKEN))
  })

  test('probes and the API description stay open', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs/']) {
      const res = await sp.app.inject({ url })
      assert.ok([200, 503].includes(res.statusCode), `${url}: ${res.statusCode}`)
    }
  })

  test('the token never reaches the logs', () => {
    assert.deepEqual(sp.logs.filter((l) => l.includes(TOKEN)), [])
  })
})

describe('token configuration', () => {
  let tmp: TempDir
  const teardown = suiteTeardown()
  before(async () => { tmp = await makeTempDir(teardown) })
  const raw = (api: Record<string, unknown>) => ({ source: tmp.path, database: 'x.db', api, targets: [{ name: 'b', url: '/mnt/b/' }] })
  const load = (api: Record<string, unknown>, env: Record<string, string> = {}) => parseConfig(raw(api), { env, baseDir: tmp.path, origin: 'test' })

  test('binding beyond loopback without a token refuses to start, naming the key', () => {
    assert.throws(() => load({ host: '0.0.0.0' }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('api.host: "0.0.0.0" is reachable from other machines but the API has no token')))
    assert.equal(load({ host: '0.0.0.0', allowUnauthenticated: true }).apiToken, undefined)
    assert.equal(load({ host: '127.0.0.1' }).apiToken, undefined)
  })

  test('the token comes from api.token, api.tokenFile or SYNCPLANE_API_TOKEN, and is kept out of the config', async () => {
    assert.equal(load({ host: '0.0.0.0' }, { SYNCPLANE_API_TOKEN: TOKEN }).apiToken, TOKEN)
    await writeFile(path.join(tmp.path, 'api.token'), `${TOKEN}\n`)
    const fromFile = load({ host: '0.0.0.0', tokenFile: 'api.token' })
    assert.equal(fromFile.apiToken, TOKEN)
    const inline = load({ token: TOKEN })
    assert.equal(inline.apiToken, TOKEN)
    assert.ok(!JSON.stringify(inline.config).includes(TOKEN))
    assert.throws(() => load({ token: 'short' }), /api\.token: must not have fewer than 16 characters/)
  })

  test('the OpenAPI document declares the bearer scheme on every /v1 operation and /metrics, and the probes open', async () => {
    const doc = JSON.parse(await renderOpenApi())
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer')
    for (const [route, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown }>>)) {
      for (const op of Object.values(ops)) {
        if (route.startsWith('/v1/') || route === '/metrics') assert.deepEqual(op.security, [{ bearerAuth: [] }], route)
        else assert.deepEqual(op.security, [], route)
      }
    }
  })
})
