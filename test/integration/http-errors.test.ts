import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'

interface Case {
  name: string
  method?: 'GET' | 'POST'
  url: string
  payload?: string
  contentType?: string
  status: number
  code: string
  detail?: RegExp
}

const CASES: Case[] = [
  { name: 'an unknown job id', url: '/v1/jobs/999999', status: 404, code: 'JOB_NOT_FOUND', detail: /999999/ },
  { name: 'a job id that is not a number', url: '/v1/jobs/abc', status: 400, code: 'VALIDATION_FAILED', detail: /params\/id/ },
  { name: 'a job id of zero', url: '/v1/jobs/0', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'a job id beyond 2^53', url: '/v1/jobs/99999999999999999999999', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'a limit of zero', url: '/v1/jobs?limit=0', status: 400, code: 'VALIDATION_FAILED', detail: /querystring\/limit/ },
  { name: 'a limit that is not a number', url: '/v1/jobs?limit=lots', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'a limit above the maximum', url: '/v1/jobs?limit=100000', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'an unknown status', url: '/v1/jobs?status=exploded', status: 400, code: 'VALIDATION_FAILED', detail: /status/ },
  { name: 'a since that is not a date', url: '/v1/jobs?since=yesterday', status: 400, code: 'VALIDATION_FAILED', detail: /since/ },
  { name: 'a negative cursor', url: '/v1/jobs?cursor=-5', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'an unknown route', url: '/v1/nope', status: 404, code: 'NOT_FOUND' },
  { name: 'a wrong method', method: 'POST', url: '/v1/status', status: 404, code: 'NOT_FOUND' },
  { name: 'force of the wrong type', method: 'POST', url: '/v1/resync', payload: '{"force":"please"}', status: 400, code: 'VALIDATION_FAILED', detail: /force/ },
  { name: 'targets of the wrong type', method: 'POST', url: '/v1/resync', payload: '{"targets":{"a":1}}', status: 400, code: 'VALIDATION_FAILED', detail: /targets/ },
  { name: 'an unknown body property', method: 'POST', url: '/v1/resync', payload: '{"target":"web2"}', status: 400, code: 'VALIDATION_FAILED', detail: /target/ },
  { name: 'an unknown target', method: 'POST', url: '/v1/resync', payload: '{"targets":["nowhere"]}', status: 404, code: 'TARGET_NOT_FOUND', detail: /nowhere/ },
  { name: 'a body that is not JSON', method: 'POST', url: '/v1/resync', payload: '{not json', status: 400, code: 'BAD_REQUEST' },
  { name: 'a JSON array body', method: 'POST', url: '/v1/resync', payload: '[]', status: 400, code: 'VALIDATION_FAILED' },
  { name: 'an XML body', method: 'POST', url: '/v1/resync', payload: 'targets=web2', contentType: 'application/xml', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'a body over the limit', method: 'POST', url: '/v1/resync', payload: JSON.stringify({ targets: Array(20_000).fill('x'.repeat(10)) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'wait that is not a boolean', method: 'POST', url: '/v1/resync?wait=maybe', payload: '{}', status: 400, code: 'VALIDATION_FAILED', detail: /wait/ },
]

describe('bad HTTP input', () => {
  let tmp: TempDir
  let sp: SyncplaneHarness

  const teardown = suiteTeardown()
  before(async () => {
    tmp = await makeTempDir(teardown)
    const target = await startTarget(tmp, 'local', 'web2')
    sp = await startSyncplane(tmp, { targets: [target.config], config: { fullSync: { onStart: false } } })
  })

  for (const c of CASES) {
    test(`${c.name} gets ${c.status} problem+json, never a 5xx`, async () => {
      const res = await sp.app.inject({
        method: c.method ?? 'GET',
        url: c.url,
        payload: c.payload,
        headers: c.payload === undefined ? {} : { 'content-type': c.contentType ?? 'application/json' },
      })
      assert.equal(res.statusCode, c.status, res.body)
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/)
      const body = res.json()
      assert.equal(body.status, c.status)
      assert.equal(body.code, c.code)
      assert.equal(typeof body.title, 'string')
      assert.equal(typeof body.type, 'string')
      assert.equal(typeof body.detail, 'string')
      if (c.detail) assert.match(body.detail, c.detail)
      assert.doesNotMatch(res.body, /\bat \w+ \(|node_modules|\/work\/|\.ts:\d+/, 'no stack trace or internal path')
    })
  }

  test('validation failures list every invalid field', async () => {
    const res = await sp.app.inject({ url: '/v1/jobs?limit=0&status=nope' })
    const body = res.json()
    assert.ok(Array.isArray(body.errors))
    const paths = body.errors.map((e: { path: string }) => e.path)
    assert.ok(paths.includes('/limit'), JSON.stringify(body.errors))
    assert.ok(paths.some((p: string) => p.startsWith('/status')), JSON.stringify(body.errors))
  })

  test('a bare POST with no body means all targets', async () => {
    const res = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true' })
    assert.equal(res.statusCode, 200, res.body)
  })
})
