import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import type parcel from '@parcel/watcher'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher, type ParcelWatcherOptions } from '../../src/watcher/parcel-watcher.js'

/** A parcel watcher of the test's directory whose root events are delivered by hand; subscriptions of subtrees are only counted. */
async function handFed (tmp: TempDir) {
  const root = tmp.path
  const deliver: Array<(err: Error | null, events: parcel.Event[]) => void> = []
  const subtrees: string[] = []
  const subscribe: NonNullable<ParcelWatcherOptions['subscribe']> = async (dir, fn) => {
    if (dir === root) deliver.push(fn)
    else subtrees.push(dir)
    return { unsubscribe: async () => {} }
  }
  const watcher = createParcelWatcher({
    root,
    isExcluded: () => false,
    sink: { onChanges: () => {}, onDegraded: () => {} },
    logger: pino({ level: 'silent' }),
    subscribe,
  })
  tmp.after(() => watcher.close())
  await watcher.start()
  const send = (type: parcel.EventType, ...parts: string[]) => deliver[0]!(null, [{ type, path: path.join(root, ...parts) }])
  return { send, subtrees }
}

test('a tree deleted and made again within seconds gets a subscription of its own again', async (t) => {
  const tmp = await makeTempDir(t)
  const { send, subtrees } = await handFed(tmp)
  const tree = path.join(tmp.path, 'again')

  await mkdir(path.join(tree, 'p', 'q'), { recursive: true })
  send('create', 'again')
  await waitFor(() => subtrees.length === 1, { message: 'the populated tree is subscribed' })

  await rm(tree, { recursive: true })
  send('delete', 'again')
  await mkdir(path.join(tree, 'p', 'q'), { recursive: true })
  send('create', 'again')
  await waitFor(() => subtrees.length === 2, { message: 'the tree made again is subscribed again' })
  assert.deepEqual(subtrees, [tree, tree])
})

test('below a tree moved away and made again, a directory made again is looked at again', async (t) => {
  const tmp = await makeTempDir(t)
  const { send, subtrees } = await handFed(tmp)
  const at = (...parts: string[]) => path.join(tmp.path, ...parts)

  await mkdir(at('e', 'p'), { recursive: true })
  send('create', 'e')
  send('create', 'e', 'p')
  await waitFor(() => subtrees.includes(at('e')), { message: 'e is subscribed' })
  // mv reports the top of the tree only.
  await rename(at('e'), at('away'))
  send('delete', 'e')
  await mkdir(at('e'))
  send('create', 'e')
  // New entries are looked at in order: once z is subscribed, the empty e has been looked at.
  await mkdir(at('z', 'y'), { recursive: true })
  send('create', 'z')
  await waitFor(() => subtrees.includes(at('z')), { message: 'z is subscribed' })

  await mkdir(at('e', 'p', 'q'), { recursive: true })
  send('create', 'e', 'p')
  await waitFor(() => subtrees.includes(at('e', 'p')), { message: 'e/p, made again with a subdirectory, is subscribed' })
})

test('a populated directory replaced within one batch, reported as an update, gets a subscription of its own', async (t) => {
  const tmp = await makeTempDir(t)
  const { send, subtrees } = await handFed(tmp)
  // `rm -rf d && mkdir -p d/p/q` inside one batch: parcel reports d as updated.
  await mkdir(path.join(tmp.path, 'd', 'p', 'q'), { recursive: true })
  send('update', 'd')
  await waitFor(() => subtrees.includes(path.join(tmp.path, 'd')), { message: 'the replaced d is subscribed' })
})
