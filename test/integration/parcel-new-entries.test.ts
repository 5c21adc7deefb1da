import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import type parcel from '@parcel/watcher'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createParcelWatcher, type ParcelWatcherOptions } from '../../src/watcher/parcel-watcher.js'

test('a tree deleted and made again within seconds gets a subscription of its own again', async (t) => {
  const tmp = await makeTempDir()
  t.after(tmp.cleanup)
  // The root's events are delivered by hand; subscriptions of subtrees are only counted.
  const root: Array<(err: Error | null, events: parcel.Event[]) => void> = []
  const subtrees: string[] = []
  const subscribe: NonNullable<ParcelWatcherOptions['subscribe']> = async (dir, fn) => {
    if (dir === tmp.path) root.push(fn)
    else subtrees.push(dir)
    return { unsubscribe: async () => {} }
  }
  const watcher = createParcelWatcher({
    root: tmp.path,
    isExcluded: () => false,
    sink: { onChanges: () => {}, onDegraded: () => {} },
    logger: pino({ level: 'silent' }),
    subscribe,
  })
  t.after(() => watcher.close())
  await watcher.start()

  const tree = path.join(tmp.path, 'again')
  await mkdir(path.join(tree, 'p', 'q'), { recursive: true })
  root[0]!(null, [{ type: 'create', path: tree }])
  await waitFor(() => subtrees.length === 1, { message: 'the populated tree is subscribed' })

  await rm(tree, { recursive: true })
  root[0]!(null, [{ type: 'delete', path: tree }])
  await mkdir(path.join(tree, 'p', 'q'), { recursive: true })
  root[0]!(null, [{ type: 'create', path: tree }])
  await waitFor(() => subtrees.length === 2, { message: 'the tree made again is subscribed again' })
  assert.deepEqual(subtrees, [tree, tree])
})
