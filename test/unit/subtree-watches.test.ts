import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type parcel from '@parcel/watcher'
import { pino } from 'pino'
import { lstatMany } from '../../src/watcher/lstat-many.js'
import { createSubtreeWatches, type WatchDirectory } from '../../src/watcher/subtree-watches.js'
import type { Change } from '../../src/watcher/watcher.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'

// A new tree's subdirectories get watches of this thread's own (node:fs),
// not parcel subscriptions: a failed parcel subscription releases its
// callback off the JavaScript thread, and a mesh node died of it.

/** Subtree watches of a test directory, with what they report and what they watch; `watchDirectory` replaces node:fs watch where given. */
async function watchesOf (t: import('node:test').TestContext, watchDirectory?: WatchDirectory) {
  const tmp = await makeTempDir(t)
  const root = tmp.path
  const events: parcel.Event[] = []
  const reported: Change[] = []
  const degraded: string[] = []
  const watches = createSubtreeWatches({
    onEvents: (e) => events.push(...e),
    lookUp: (paths) => lstatMany('', paths),
    relative: (abs) => path.relative(root, abs),
    report: (c) => reported.push(...c),
    degrade: (_err, where) => degraded.push(where),
    skip: (abs) => abs === path.join(root, '.syncplane'),
    logger: pino({ level: 'silent' }),
    watchDirectory,
  })
  tmp.after(() => watches.close())
  const at = (...parts: string[]) => path.join(root, ...parts)
  return { watches, events, reported, degraded, at }
}

/** A watchDirectory that only records: which directories are watched now. */
function recording () {
  const open = new Set<string>()
  const watchDirectory: WatchDirectory = (dir) => {
    open.add(dir)
    return { close: () => open.delete(dir) }
  }
  return { open, watchDirectory }
}

test('a tree made at once below a directory parcel watches gets a watch on every directory under its top, and is reported again', async (t) => {
  const { open, watchDirectory } = recording()
  const { watches, reported, at } = await watchesOf(t, watchDirectory)
  await mkdir(at('tree', 'a', 'b'), { recursive: true })
  await mkdir(at('tree', 'c'))
  await watches.inspect(at('tree'))
  assert.deepEqual([...open].sort(), [at('tree', 'a'), at('tree', 'a', 'b'), at('tree', 'c')])
  assert.deepEqual(reported, [{ path: 'tree', kind: 'add' }])
})

test('a new directory without subdirectories below one parcel watches gets no watch and no second report', async (t) => {
  const { open, watchDirectory } = recording()
  const { watches, reported, at } = await watchesOf(t, watchDirectory)
  await mkdir(at('flat'))
  await watches.inspect(at('flat'))
  assert.deepEqual([...open], [])
  assert.deepEqual(reported, [])
})

test('a directory made inside one only these watches cover is watched itself, with what is below it', async (t) => {
  const { open, watchDirectory } = recording()
  const { watches, reported, at } = await watchesOf(t, watchDirectory)
  await mkdir(at('tree', 'a'), { recursive: true })
  await watches.inspect(at('tree'))
  await mkdir(at('tree', 'a', 'new', 'deep'), { recursive: true })
  await watches.inspect(at('tree', 'a', 'new'))
  assert.ok(open.has(at('tree', 'a', 'new')) && open.has(at('tree', 'a', 'new', 'deep')))
  assert.deepEqual(reported.at(-1), { path: 'tree/a/new', kind: 'add' })
})

test('a deleted directory ends the watches of the directories below it, and only those', async (t) => {
  const { open, watchDirectory } = recording()
  const { watches, at } = await watchesOf(t, watchDirectory)
  await mkdir(at('tree', 'a', 'b'), { recursive: true })
  await mkdir(at('tree', 'keep'))
  await watches.inspect(at('tree'))
  watches.drop(at('tree', 'a'))
  assert.deepEqual([...open], [at('tree', 'keep')])
  watches.drop(at('tree'))
  assert.deepEqual([...open], [])
})

test('a directory left unwatched on purpose gets no watch, nor anything below it', async (t) => {
  const { open, watchDirectory } = recording()
  const { watches, at } = await watchesOf(t, watchDirectory)
  await mkdir(at('.syncplane', 'staging'), { recursive: true })
  watches.rewatch(at('.syncplane'))
  assert.deepEqual([...open], [])
})

test('the watch limit reached on a new directory turns degraded, naming it', async (t) => {
  const full: WatchDirectory = () => {
    throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' })
  }
  const { watches, degraded, at } = await watchesOf(t, full)
  await mkdir(at('tree', 'a'), { recursive: true })
  await watches.inspect(at('tree'))
  assert.deepEqual(degraded, [at('tree', 'a')])
})

test('writes in a watched directory come as parcel events: created, then updated, then deleted', async (t) => {
  const { watches, events, at } = await watchesOf(t)
  await mkdir(at('tree', 'a'), { recursive: true })
  await watches.inspect(at('tree'))
  assert.equal(watches.sentinelDir(), at('tree', 'a'))
  // Empty: a creation with no write after it, whose modification could come a turn later.
  await writeFile(at('tree', 'a', 'f'), '')
  await waitFor(() => events.some((e) => e.path === at('tree', 'a', 'f')), { message: 'the new file is reported' })
  assert.equal(events.find((e) => e.path === at('tree', 'a', 'f'))?.type, 'create')
  events.length = 0
  await writeFile(at('tree', 'a', 'f'), 'two')
  await waitFor(() => events.length > 0, { message: 'the rewrite is reported' })
  assert.deepEqual(new Set(events.map((e) => e.type)), new Set(['update']))
  await rm(at('tree', 'a', 'f'))
  await waitFor(() => events.some((e) => e.type === 'delete'), { message: 'the deletion is reported' })
  assert.deepEqual(events.at(-1), { path: at('tree', 'a', 'f'), type: 'delete' })
})
