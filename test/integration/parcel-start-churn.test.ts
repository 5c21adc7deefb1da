import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher } from '../../src/watcher/parcel-watcher.js'
import type { Change } from '../../src/watcher/watcher.js'

// parcel's subscribe crawls the tree and watches every directory; one
// removed during the crawl failed the whole subscription, and a mesh node
// restarted into churn died of it at start (seen in CI).

const silent = pino({ level: 'silent' })

/** Directories made and removed below `root` until `stop.done`: deep ones, so a crawl meets them half made. */
async function churnDirs (root: string, stop: { done: boolean }): Promise<number> {
  let rounds = 0
  while (!stop.done) {
    const top = path.join(root, 'churn', `c${rounds % 4}`)
    await mkdir(path.join(top, 'a', 'b', 'c', 'd'), { recursive: true })
    await rm(top, { recursive: true, force: true })
    rounds++
  }
  return rounds
}

test('the parcel watcher starts while directories below the root come and go, and sees a file written after', async (t) => {
  const tmp = await makeTempDir(t)
  // A crawl long enough to meet the churn: 1,500 directories.
  for (let i = 0; i < 30; i++) await mkdir(path.join(tmp.path, 'still', `s${i}`, ...Array.from({ length: 4 }, (_, j) => `x${j}`)), { recursive: true })
  for (let i = 0; i < 30; i++) for (let j = 0; j < 45; j++) await mkdir(path.join(tmp.path, 'still', `s${i}`, `y${j}`))
  const stop = { done: false }
  const churn = churnDirs(tmp.path, stop)
  t.after(async () => {
    stop.done = true
    await churn
  })
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
  stop.done = true
  assert.ok(await churn > 0, 'directories came and went during the starts')
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
