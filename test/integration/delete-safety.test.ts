import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget, type TargetKind } from '../helpers/targets.js'
import { jobsOf } from '../helpers/stores.js'
import { createExecaRunner, type RsyncRunner } from '../../src/rsync/runner.js'

for (const kind of ['local', 'daemon'] as TargetKind[]) {
  describe(`an empty source never wipes a ${kind} target`, () => {
    test('the mirror holds its deletions with a clear reason until an operator forces it', async (t) => {
      const tmp = await makeTempDir(t)
      const target = await startTarget(tmp, kind, 'web2')
      await writeFile(path.join(target.dir, 'precious.jpg'), 'uploaded last week')
      // Beside the target, outside anything syncplane was given.
      const outside = path.join(tmp.path, 'beside-the-target.txt')
      await writeFile(outside, 'not ours')
      const sp = await startSyncplane(tmp, { targets: [target.config], env: target.env })

      const held = await waitFor(async () => (await sp.app.inject({ url: '/v1/status' })).json().targets[0].deletesHeld,
        { message: 'the startup mirror holds its deletions' })
      assert.match(held.message, /is empty but the target still holds files; their deletion is held/)
      assert.equal(held.count, 1)
      assert.deepEqual(await readdir(target.dir), ['precious.jpg'])
      await waitFor(async () => (await sp.app.inject({ url: '/v1/status' })).json().targets[0].state === 'held', { message: 'the target shows as held' })

      const forced = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true', payload: { force: true } })
      assert.equal(forced.statusCode, 200, forced.body)
      assert.deepEqual(await readdir(target.dir), [], 'forced: the target mirrors the empty source')
      assert.deepEqual((await readdir(tmp.path)).includes('beside-the-target.txt'), true, 'nothing outside the target was touched')
    })
  })
}

test('files written while the mirror looks at an empty source are not taken for an unmounted volume', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'daemon', 'web2')
  const real = createExecaRunner({ binary: 'rsync', baseEnv: process.env })
  const source = path.join(tmp.path, 'source')
  // The first upload lands, and a run alongside the mirror delivers it,
  // between the mirror reading the empty source and listing the target.
  const runner: RsyncRunner = {
    async run (invocation) {
      if (invocation.args.includes('--list-only')) {
        await writeFile(path.join(source, 'first-upload.jpg'), 'new')
        await writeFile(path.join(target.dir, 'first-upload.jpg'), 'new')
      }
      return real.run(invocation)
    },
  }
  const sp = await startSyncplane(tmp, { targets: [target.config], env: target.env, runner })
  const done = await waitFor(() => jobsOf(sp.services.jobs, { kind: 'full' }).find((j) => j.status === 'succeeded' || j.status === 'failed'),
    { message: 'the startup mirror finishes' })
  assert.deepEqual({ status: done.status, error: done.error }, { status: 'succeeded', error: null })
})

test('a resync that waits answers 502 with the failed jobs, so curl --fail tells the truth', async (t) => {
  const tmp = await makeTempDir(t)
  // The target's parent is a file: rsync cannot make the directory.
  await writeFile(path.join(tmp.path, 'not-a-directory'), 'x')
  const sp = await startSyncplane(tmp, { targets: [{ name: 'web2', url: `${path.join(tmp.path, 'not-a-directory', 'replica')}/` }], config: { fullSync: { onStart: false } } })
  const res = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true' })
  assert.equal(res.statusCode, 502)
  assert.equal(res.json().jobs[0].status, 'failed')
})

test('a resync that waits answers 409 with the held deletions, so curl --fail tells the truth', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'local', 'web2')
  await writeFile(path.join(target.dir, 'precious.jpg'), 'x')
  const sp = await startSyncplane(tmp, { targets: [target.config], config: { fullSync: { onStart: false } } })
  const res = await sp.app.inject({ method: 'POST', url: '/v1/resync?wait=true' })
  assert.equal(res.statusCode, 409)
  assert.equal(res.json().jobs[0].status, 'succeeded')
  assert.deepEqual(res.json().deletesHeld.map((h: { target: string, count: number }) => [h.target, h.count]), [['web2', 1]])
  assert.deepEqual(await readdir(target.dir), ['precious.jpg'])
})
