import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { OPENAPI_FILE } from '../../src/openapi.js'
import { OPENAPI_TYPES_FILE, renderOpenApiTypes } from '../../scripts/openapi-types.js'
import { typedClient } from '../fixtures/openapi-client.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { waitFor } from '../helpers/wait-for.js'

test('openapi/openapi.d.ts is what openapi-typescript generates from openapi/openapi.json (run `npm run openapi` to refresh it)', async () => {
  assert.equal(readFileSync(OPENAPI_TYPES_FILE, 'utf8'), await renderOpenApiTypes(readFileSync(OPENAPI_FILE, 'utf8')))
})

test('a client typed only by the generated types works against a service that requires a token', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'local', 'backup')
  const token = 'a-token-for-the-typed-client'
  const sp = await startSyncplane(tmp, {
    targets: [target.config],
    env: { SYNCPLANE_API_TOKEN: token },
    config: { fullSync: { onStart: false, intervalSec: 0 } },
  })
  await sp.app.listen({ host: '127.0.0.1', port: 0 })
  const base = `http://127.0.0.1:${(sp.app.server.address() as AddressInfo).port}`
  await writeFile(path.join(sp.source, 'deployed.txt'), 'v2\n')

  const client = typedClient(base, token)
  const resync = await client.resync(['backup'])
  assert.equal(resync.status, 200, JSON.stringify(resync.body))
  const [job] = resync.body.jobs
  assert.equal(job?.status, 'succeeded')
  assert.equal(job.target, 'backup')
  assert.equal(readFileSync(path.join(target.dir, 'deployed.txt'), 'utf8'), 'v2\n')

  const detail = await client.job(job.id)
  assert.equal(detail.status, 200)
  assert.ok('job' in detail.body && detail.body.job.id === job.id)
  const missing = await client.job(job.id + 1_000)
  assert.equal(missing.status, 404)
  assert.ok('code' in missing.body && missing.body.code === 'JOB_NOT_FOUND')
  assert.deepEqual((await client.jobs({ target: 'backup', kind: 'full', limit: 5 })).map((j) => j.id), [job.id])
  // The watcher may report deployed.txt after the resync copied it; the
  // incremental run it starts then has nothing to send, and ends.
  let behind: string[] = []
  await waitFor(async () => (behind = await client.behind()).length === 0, {
    message: () => `still behind after the resync: ${behind.join('; ')}`,
  })

  assert.equal((await typedClient(base, 'not-the-token-of-this-service').job(job.id)).status, 401)
})
