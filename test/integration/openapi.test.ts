import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { OPENAPI_FILE, renderOpenApi } from '../../src/openapi.js'

const execFileP = promisify(execFile)

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

test('routes refer to the component schemas instead of carrying copies of them', async () => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: unknown, components: { schemas: Record<string, unknown> } }
  const names = new Set(Object.keys(doc.components.schemas))
  const copies: string[] = []
  const refs = new Set<string>()
  const walk = (node: unknown, where: string): void => {
    if (node === null || typeof node !== 'object') return
    const { title, $ref } = node as { title?: unknown, $ref?: unknown }
    if (typeof title === 'string' && names.has(title) && where !== `#/components/schemas/${title}`) copies.push(`${title} at ${where}`)
    if (typeof $ref === 'string') refs.add($ref.replace('#/components/schemas/', ''))
    for (const [key, child] of Object.entries(node)) walk(child, `${where}/${key}`)
  }
  walk(doc.paths, '#/paths')
  for (const [name, schema] of Object.entries(doc.components.schemas)) walk(schema, `#/components/schemas/${name}`)
  assert.deepEqual(copies, [], 'inline copies of components')
  assert.deepEqual([...names].filter((n) => !refs.has(n)), [], 'components nothing refers to')
})

test('inputs with a default, and bodies the route does without, are optional in the document', async () => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, { parameters?: Array<{ name: string, required?: boolean }>, requestBody?: { required?: boolean, content: Record<string, { schema: { required?: string[] } }> } }>> }
  const resync = doc.paths['/v1/resync']!.post!
  assert.deepEqual(resync.parameters?.filter((p) => p.required === true).map((p) => p.name), [])
  assert.equal(resync.requestBody?.required, false)
  const flush = doc.paths['/v1/flush']!.post!
  assert.equal(flush.requestBody?.required, false)
  assert.equal(flush.requestBody?.content['application/json']?.schema.required, undefined, 'timeout has a default')
  assert.equal(doc.paths['/v1/targets/{name}/deletes/confirm']!.post!.requestBody?.required, false)
  assert.equal(doc.paths['/v1/mesh/deletes/confirm']!.post!.requestBody?.required, true, 'expected has no default')
  assert.deepEqual(doc.paths['/v1/jobs']!.get!.parameters?.filter((p) => p.required === true), [])
})

test('Redocly CLI finds no problem in the committed document (recommended-strict, redocly.yaml)', async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js')
  const { stdout } = await execFileP(process.execPath, [cli, 'lint', OPENAPI_FILE, '--format=json'], {
    cwd: root,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))
  const report = JSON.parse(stdout) as { totals: { errors: number, warnings: number }, problems: Array<{ ruleId: string, message: string, location: Array<{ pointer?: string }> }> }
  const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} (${p.location.map((l) => l.pointer).join(', ')})`)
  assert.deepEqual(problems, [])
  assert.deepEqual(report.totals, { ...report.totals, errors: 0, warnings: 0 })
})
