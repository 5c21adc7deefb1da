import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'

test('files created and deleted while a full mirror runs are right on the target once both are done', async (t) => {
  const tmp = await makeTempDir()
  const target = await startTarget('daemon', tmp.path, 'web2')
  const source = path.join(tmp.path, 'source')
  for (let d = 0; d < 100; d++) {
    await mkdir(path.join(source, `old${d}`), { recursive: true })
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(path.join(source, `old${d}`, `f${f}`), Buffer.alloc(512, d))))
  }
  // Slow the transfer so the mirror surely overlaps the writes below.
  const sp = await startSyncplane({ root: tmp.path, targets: [target.config], env: target.env, config: { rsync: { extraArgs: ['--bwlimit=1500'] } } })
  t.after(async () => {
    await sp.close()
    await target.stop()
    await tmp.cleanup()
  })
  const running = () => sp.services.db.prepare("SELECT id FROM jobs WHERE kind = 'full' AND status = 'running'").get() as { id: number } | undefined
  const full = await waitFor(running, { message: 'the startup mirror is running' })

  await mkdir(path.join(source, 'new-during-full'))
  for (let i = 0; i < 50; i++) await writeFile(path.join(source, 'new-during-full', `n${i}`), `new ${i}`)
  await rm(path.join(source, 'old99'), { recursive: true })
  await writeFile(path.join(source, 'old0', 'f0'), 'rewritten during the mirror')
  assert.equal(running()?.id, full.id, 'the writes overlapped the mirror')

  await waitForTreesEqual(source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 60_000 })
  const after = sp.services.db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE kind = 'incremental' AND id > ? AND status = 'succeeded'").get(full.id) as { n: number }
  assert.ok(after.n >= 1, 'the changes seen during the mirror were sent after it')
})
