import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { OPENAPI_FILE, renderOpenApi } from '../../src/openapi.js'

test('the committed openapi/openapi.json matches the routes (run `npm run openapi` to refresh it)', async () => {
  assert.equal(readFileSync(OPENAPI_FILE, 'utf8'), await renderOpenApi())
})

test('every documented operation has an operationId, tags and problem responses', async () => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, { operationId?: string; tags?: string[]; responses: Record<string, unknown> }>> }
  const ids = new Set<string>()
  for (const [route, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      assert.ok(op.operationId, `${method} ${route} has no operationId`)
      assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`)
      ids.add(op.operationId)
      assert.ok(op.tags?.length, `${method} ${route} has no tags`)
      assert.ok(op.responses['4XX'] && op.responses['5XX'], `${method} ${route} does not declare its problem responses`)
    }
  }
})
