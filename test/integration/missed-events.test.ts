import { test } from 'node:test'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplaneTo } from '../helpers/syncplane.js'
import { jobsOf } from '../helpers/stores.js'

test('the periodic mirror repairs drift made on the target behind our back', async (t) => {
  const { target, sp } = await startSyncplaneTo(t, 'daemon', { name: 'web2', config: { fullSync: { intervalSec: 1 } } })
  await writeFile(path.join(sp.source, 'truth.txt'), 'the source says so')
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile })
  await writeFile(path.join(target.dir, 'truth.txt'), 'someone edited the replica')
  await writeFile(path.join(target.dir, 'stray.txt'), 'and left this')
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile })
  await waitFor(() => jobsOf(sp.services.jobs, { trigger: 'periodic', status: 'succeeded' }).length > 0, { message: 'a periodic mirror succeeded' })
})

test('a populated tree created faster than the watch can follow is replicated whole', async (t) => {
  const { target, sp } = await startSyncplaneTo(t, 'local', { name: 'backup', config: { fullSync: { intervalSec: 0 } } })
  // mkdir -p and the files follow at once, before the new directories are watched.
  const deep = path.join(sp.source, 'n1', 'n2', 'n3', 'n4')
  await mkdir(deep, { recursive: true })
  await Promise.all(Array.from({ length: 50 }, (_, i) => writeFile(path.join(deep, `f${i}`), `${i}`)))
  await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile })
})
