import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { spawnManaged, type ManagedProcess } from '../helpers/managed-process.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher } from '../../src/watcher/parcel-watcher.js'
import type { Change } from '../../src/watcher/watcher.js'

// parcel's subscribe crawls the tree and watches every directory; one
// removed during the crawl failed the whole subscription, and a mesh node
// restarted into churn died of it at start (seen in CI).

const silent = pino({ level: 'silent' })

/**
 * Directories made and removed below `root` by another process, as uploads
 * are: deep ones, so a crawl meets them half made. Not in this thread: a
 * subscription the churn fails releases its callback on a libuv thread
 * (see subtree-watches.ts), and fs calls of this thread at that moment could
 * crash the test process, which no writer of a real tree does.
 */
async function churnDirs (t: TestContext, root: string): Promise<ManagedProcess> {
  const script = 'i=0; while :; do mkdir -p "churn/c$((i % 4))/a/b/c/d" && rm -rf "churn/c$((i % 4))"; i=$((i + 1)); printf .; done'
  const churn = await spawnManaged('sh', ['-c', script], { cwd: root })
  t.after(() => churn.stop())
  await waitFor(() => churn.output().length > 0, { message: 'the churn made and removed a directory' })
  return churn
}

test('the parcel watcher starts while directories below the root come and go, and sees a file written after', async (t) => {
  const tmp = await makeTempDir(t)
  // A crawl long enough to meet the churn: 1,500 directories.
  for (let i = 0; i < 30; i++) await mkdir(path.join(tmp.path, 'still', `s${i}`, ...Array.from({ length: 4 }, (_, j) => `x${j}`)), { recursive: true })
  for (let i = 0; i < 30; i++) for (let j = 0; j < 45; j++) await mkdir(path.join(tmp.path, 'still', `s${i}`, `y${j}`))
  const churn = await churnDirs(t, tmp.path)
  for (let attempt = 0; attempt < 8; attempt++) {
    const seen: Change[] = []
    const watcher = createParcelWatcher({ root: tmp.path, isExcluded: () => false, sink: { onChanges: (c) => seen.push(...c), onDegraded: () => {} }, logger: silent })
    try {
      await watcher.start()
      const name = `after-${attempt}.txt`
      await writeFile(path.join(tmp.path, 'still', name), 'x')
      await waitFor(() => seen.some((c) => c.path === `still/${name}`), { message: `start ${attempt}: the file written after the start is reported` })
      assert.equal(watcher.status().state, 'running', String(watcher.status().lastError))
    } finally {
      await watcher.close()
    }
  }
  assert.ok(churn.isRunning(), 'directories came and went during all the starts')
})

test('a directory the parcel watcher is told to leave unwatched reports nothing, and the rest of the tree does', async (t) => {
  const tmp = await makeTempDir(t)
  await mkdir(path.join(tmp.path, '.syncplane', 'staging'), { recursive: true })
  const seen: Change[] = []
  const watcher = createParcelWatcher({ root: tmp.path, unwatched: ['.syncplane'], isExcluded: () => false, sink: { onChanges: (c) => seen.push(...c), onDegraded: () => {} }, logger: silent })
  t.after(() => watcher.close())
  await watcher.start()
  await mkdir(path.join(tmp.path, '.syncplane', 'staging', 'n1', 'b1', 'deep'), { recursive: true })
  await writeFile(path.join(tmp.path, '.syncplane', 'staging', 'n1', 'b1', 'deep', 'f.txt'), 'x')
  await writeFile(path.join(tmp.path, 'upload.txt'), 'x')
  await waitFor(() => seen.some((c) => c.path === 'upload.txt'), { message: 'the upload is reported' })
  // The barrier's sentinels pass through every watched queue: whatever the unwatched directory caused would be in by now.
  await watcher.barrier(AbortSignal.timeout(10_000))
  assert.deepEqual(seen.filter((c) => c.path.startsWith('.syncplane')), [])
})
