import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import type parcel from '@parcel/watcher'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher, type ParcelWatcherOptions } from '../../src/watcher/parcel-watcher.js'

/** A parcel watcher of the test's directory whose root events are delivered by hand; the directories it watches below new trees are only listed. */
async function handFed (tmp: TempDir) {
  const root = tmp.path
  const deliver: Array<(err: Error | null, events: parcel.Event[]) => void> = []
  const subtrees: string[] = []
  const subscribe: NonNullable<ParcelWatcherOptions['subscribe']> = async (dir, fn) => {
    assert.equal(dir, root, 'only the root is subscribed')
    deliver.push(fn)
    return { unsubscribe: async () => {} }
  }
  const watchDirectory: NonNullable<ParcelWatcherOptions['watchDirectory']> = (dir) => {
    subtrees.push(dir)
    return { close: () => {} }
  }
  const watcher = createParcelWatcher({
    root,
    isExcluded: () => false,
    sink: { onChanges: () => {}, onDegraded: () => {} },
    logger: pino({ level: 'silent' }),
    subscribe,
    watchDirectory,
  })
  tmp.after(() => watcher.close())
  await watcher.start()
  const send = (type: parcel.EventType, ...parts: string[]) => deliver[0]!(null, [{ type, path: path.join(root, ...parts) }])
  return { send, subtrees }
}

test('a tree deleted and made again within seconds gets watches of its own again', async (t) => {
  const tmp = await makeTempDir(t)
  const { send, subtrees } = await handFed(tmp)
  const tree = path.join(tmp.path, 'again')

  await mkdir(path.join(tree, 'p', 'q'), { recursive: true })
  send('create', 'again')
  await waitFor(() => subtrees.length === 2, { message: 'the directories of the populated tree are watched' })

  await rm(tree, { recursive: true })
  send('delete', 'again')
  await mkdir(path.join(tree, 'p', 'q'), { recursive: true })
  send('create', 'again')
  await waitFor(() => subtrees.length === 4, { message: 'the tree made again is watched again' })
  const below = [path.join(tree, 'p'), path.join(tree, 'p', 'q')]
  assert.deepEqual(subtrees, [...below, ...below])
})

test('below a tree moved away and made again, a directory made again is looked at again', async (t) => {
  const tmp = await makeTempDir(t)
  const { send, subtrees } = await handFed(tmp)
  const at = (...parts: string[]) => path.join(tmp.path, ...parts)

  await mkdir(at('e', 'p'), { recursive: true })
  send('create', 'e')
  send('create', 'e', 'p')
  await waitFor(() => subtrees.includes(at('e', 'p')), { message: 'e/p is watched' })
  // mv reports the top of the tree only.
  await rename(at('e'), at('away'))
  send('delete', 'e')
  await mkdir(at('e'))
  send('create', 'e')
  // New entries are looked at in order: once z/y is watched, the empty e has been looked at.
  await mkdir(at('z', 'y'), { recursive: true })
  send('create', 'z')
  await waitFor(() => subtrees.includes(at('z', 'y')), { message: 'z/y is watched' })

  await mkdir(at('e', 'p', 'q'), { recursive: true })
  send('create', 'e', 'p')
  await waitFor(() => subtrees.includes(at('e', 'p', 'q')), { message: 'below e/p, made again with a subdirectory, it is watched' })
})

test('a populated directory replaced within one batch, reported as an update, gets watches below it', async (t) => {
  const tmp = await makeTempDir(t)
  const { send, subtrees } = await handFed(tmp)
  // `rm -rf d && mkdir -p d/p/q` inside one batch: parcel reports d as updated.
  await mkdir(path.join(tmp.path, 'd', 'p', 'q'), { recursive: true })
  send('update', 'd')
  await waitFor(() => subtrees.includes(path.join(tmp.path, 'd', 'p')), { message: 'below the replaced d, it is watched' })
})
