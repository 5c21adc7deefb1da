import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { jobsOf, journalOf, openStores } from '../helpers/stores.js'
import { createExecaRunner, type RsyncRunner } from '../../src/rsync/runner.js'
import { LIFECYCLE_KEY } from '../../src/sync/settings-keys.js'

/** The real service whose incremental runs wait for release() (or their abort) before rsync starts. */
async function withHeldRuns (tmp: TempDir, drainSec: number) {
  const real = createExecaRunner({ binary: 'rsync', baseEnv: process.env })
  let release = (): void => undefined
  const released = new Promise<void>((resolve) => { release = resolve })
  const runner: RsyncRunner = {
    async run (invocation) {
      if (invocation.args.includes('--files-from=-')) {
        await Promise.race([released, new Promise((resolve) => invocation.signal?.addEventListener('abort', resolve, { once: true }))])
      }
      return real.run(invocation)
    },
  }
  const target = await startTarget(tmp, 'local', 'backup')
  const sp = await startSyncplane(tmp, { targets: [target.config], runner, config: { fullSync: { onStart: false, intervalSec: 0 }, shutdown: { drainSec } } })
  await writeFile(path.join(sp.source, 'held.txt'), 'held')
  await waitFor(() => sp.services.engine.status().targets[0]!.runningJobId !== null, { message: 'the run is held' })
  return { sp, release }
}

const status = async (sp: SyncplaneHarness) => (await sp.app.inject({ url: '/v1/status' })).statusCode

/** The API and the database are closed; what the service left in the database, read anew. */
async function assertClosed (tmp: TempDir, sp: SyncplaneHarness) {
  await assert.rejects(sp.app.inject({ url: '/healthz' }), 'the API is closed')
  assert.equal(sp.services.db.open, false, 'the database is closed')
  return openStores(tmp, path.join(tmp.path, 'syncplane.db'))
}

test('close() drains once: the API answers throughout the drain, then closes, and the database takes the clean stop last', async (t) => {
  const tmp = await makeTempDir(t)
  const { sp, release } = await withHeldRuns(tmp, 60)
  const closing = sp.services.close()
  assert.equal(sp.services.close(), closing, 'a second close() joins the first')
  await waitFor(() => sp.services.engine.status().watcher.state === 'stopped', { message: 'the watch stops first' })
  assert.equal(await status(sp), 200, 'the API answers while a run drains')
  assert.equal(sp.services.db.open, true)

  release()
  await closing
  const left = await assertClosed(tmp, sp)
  assert.equal(jobsOf(left.jobs).at(-1)?.status, 'succeeded', 'the drained run finished')
  assert.equal(left.settings.get(LIFECYCLE_KEY), 'stopped')
})

test('destroy() during a drain stops the held run at once, closes the API and the database, and keeps the run\'s path journaled', async (t) => {
  const tmp = await makeTempDir(t)
  const { sp } = await withHeldRuns(tmp, 60)
  const closing = sp.services.close()
  await waitFor(() => sp.services.engine.status().watcher.state === 'stopped', { message: 'the drain begins' })

  const started = performance.now()
  const destroying = sp.services.destroy()
  assert.equal(sp.services.destroy(), destroying, 'a second destroy() joins the first')
  await destroying
  assert.ok(performance.now() - started < 2_500, `destroyed in ${Math.round(performance.now() - started)} ms, not after the 60 s drain`)
  await closing
  const left = await assertClosed(tmp, sp)
  assert.equal(jobsOf(left.jobs).at(-1)?.status, 'interrupted')
  assert.deepEqual(journalOf(left.db, 'backup').map((r) => r.path), ['held.txt'])
})

test('destroy() without a close() stops the watch too', async (t) => {
  const tmp = await makeTempDir(t)
  const { sp } = await withHeldRuns(tmp, 60)
  await sp.services.destroy()
  assert.equal(sp.services.engine.status().watcher.state, 'stopped')
  assert.equal(sp.services.db.open, false)
})
