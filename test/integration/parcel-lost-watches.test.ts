import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, watch } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher, type ParcelWatcherOptions } from '../../src/watcher/parcel-watcher.js'
import type { Change } from '../../src/watcher/watcher.js'

// parcel's inotify backend loses the watch of a directory now and then
// where directories are renamed at speed (found by the mesh churn test with
// rescans off: whole subtrees no inotify watch covered, every change there
// missed). checkWatches asks the kernel (/proc/self/fdinfo) which
// directories are watched and watches the others again.

const linux = existsSync('/proc/self/fdinfo')

test('a directory no inotify watch covers gets watches of its own and is reported; a watched one is left alone', { skip: !linux && 'no /proc here' }, async (t) => {
  const tmp = await makeTempDir(t)
  const at = (...parts: string[]) => path.join(tmp.path, ...parts)
  for (const dir of [['lost', 'below'], ['kept', 'watched'], ['.syncplane', 'staging']]) await mkdir(at(...dir), { recursive: true })
  // The root's subscription is a stand-in that watches nothing; 'kept/watched' has a real inotify watch (libuv's).
  const probe = watch(at('kept', 'watched'))
  t.after(() => probe.close())
  const subscribe: NonNullable<ParcelWatcherOptions['subscribe']> = async () => ({ unsubscribe: async () => {} })
  const watched: string[] = []
  const watchDirectory: NonNullable<ParcelWatcherOptions['watchDirectory']> = (dir) => {
    watched.push(dir)
    return { close: () => {} }
  }
  const seen: Change[] = []
  const watcher = createParcelWatcher({ root: tmp.path, unwatched: ['.syncplane'], isExcluded: () => false, sink: { onChanges: (c) => seen.push(...c), onDegraded: () => {} }, logger: pino({ level: 'silent' }), subscribe, watchDirectory })
  t.after(() => watcher.close())
  await watcher.start()

  watcher.checkWatches!([{ dir: 'lost', deep: true }, { dir: 'kept/watched', deep: false }, { dir: '.syncplane', deep: true }])
  await waitFor(() => seen.some((c) => c.path === 'lost'), { message: 'the directory watched again is reported' })
  // Outermost only: what is below 'lost' is watched with it.
  assert.deepEqual(watched, [at('lost'), at('lost', 'below')])
  assert.deepEqual(seen, [{ path: 'lost', kind: 'add' }])
})
