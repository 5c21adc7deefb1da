import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { diffTrees, isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { journalOf } from '../helpers/stores.js'

test('pending changes and the pause survive a restart, and replicate after resume', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'daemon')
  const options = { targets: [target.config], env: target.env, config: { fullSync: { onStart: false } } }

  // Watched from the start: files written fast into a brand-new directory
  // may come before its watch and reach the journal only as the directory.
  await mkdir(path.join(tmp.path, 'source', 'journaled'), { recursive: true })
  const first = await startSyncplane(tmp, options)
  await first.app.inject({ method: 'POST', url: '/v1/watch/pause' })
  for (let i = 0; i < 50; i++) await writeFile(path.join(first.source, 'journaled', `f${i}`), `${i}`)
  await waitFor(async () => (await first.app.inject({ url: '/v1/status' })).json().targets[0].pending === 50, { message: 'all changes recorded' })
  await first.close()

  const second = await startSyncplane(tmp, options)
  const status = (await second.app.inject({ url: '/v1/status' })).json()
  assert.equal(status.paused, true, 'a paused service restarts paused')
  assert.equal(status.targets[0].pending, 50, 'the journal restored every pending path')
  assert.ok((await diffTrees(second.source, target.dir)).length > 0)

  await second.app.inject({ method: 'POST', url: '/v1/watch/resume' })
  await waitForTreesEqual(second.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 15_000 })
  await waitFor(async () => (await second.app.inject({ url: '/v1/status' })).json().targets[0].pending === 0, { message: 'journal drained' })
  // The journal is written a slice per event-loop turn, just behind the engine.
  await waitFor(() => journalOf(second.services.db).length === 0, { message: 'delivered paths leave the journal' })
})
