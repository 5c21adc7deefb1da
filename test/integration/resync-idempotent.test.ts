import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplaneTo } from '../helpers/syncplane.js'
import { jobsOf } from '../helpers/stores.js'

test('a resync for a target that already has one queued answers with that job instead of queueing another', async (t) => {
  // 500 KiB/s and a 2 MiB file: the target stays busy long enough to queue behind it.
  const { sp } = await startSyncplaneTo(t, 'local', { name: 'backup', config: { fullSync: { onStart: false }, rsync: { extraArgs: ['--bwlimit=500'] } } })
  await writeFile(path.join(sp.source, 'big.bin'), Buffer.alloc(2 * 1024 * 1024, 1))
  await waitFor(async () => (await sp.app.inject({ url: '/v1/status' })).json().targets[0].state === 'syncing', { message: 'the target is busy' })

  const first = (await sp.app.inject({ method: 'POST', url: '/v1/resync' })).json().jobs[0]
  const second = (await sp.app.inject({ method: 'POST', url: '/v1/resync', payload: { targets: ['backup'] } })).json().jobs[0]
  assert.equal(first.status, 'queued')
  assert.equal(second.id, first.id)
  const done = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true' })
  assert.equal(done.json().jobs[0].id, first.id)
  assert.equal(done.json().jobs[0].status, 'succeeded')
  assert.equal(jobsOf(sp.services.jobs, { kind: 'full' }).length, 1)
})
