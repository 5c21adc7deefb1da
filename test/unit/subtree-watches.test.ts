import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { createSubtreeWatches } from '../../src/watcher/subtree-watches.js'
import type { Subscribe, Subscription } from '../../src/watcher/parcel-api.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'

// parcel's unsubscribe rejects with EINVAL when the kernel dropped a watch
// of a removed directory before parcel read the event
// (parcel-bundler/watcher#129); left unhandled, that rejection failed a CI run.

const EINVAL = new Error('Unable to remove watcher: Invalid argument')

/** Subtree watches over a fake subscribe whose subscriptions resolve on demand and whose unsubscribe fails as parcel's does. */
function watchesOverFailingUnsubscribe () {
  const pending: Array<() => void> = []
  const unsubscribed: string[] = []
  const subscribe = ((dir: string) => new Promise<Subscription>((resolve) => {
    pending.push(() => resolve({
      unsubscribe: () => {
        unsubscribed.push(dir)
        return Promise.reject(EINVAL)
      },
    }))
  })) as unknown as Subscribe
  const watches = createSubtreeWatches({
    subscribe,
    parcelOptions: {},
    onEvents: () => {},
    relative: (abs) => abs,
    report: () => {},
    degrade: () => assert.fail('a failed unsubscribe is no lost event'),
    dropped: () => {},
    logger: pino({ level: 'silent' }),
  })
  return { watches, pending, unsubscribed }
}

/** Rejections nobody handled while the test ran. */
function unhandledRejections (t: import('node:test').TestContext): unknown[] {
  const seen: unknown[] = []
  const record = (reason: unknown): void => { seen.push(reason) }
  process.on('unhandledRejection', record)
  t.after(() => { process.off('unhandledRejection', record) })
  return seen
}

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A directory with a subdirectory, inspected: its own subscription asked for (not resolved yet). */
async function inspectedTree (t: import('node:test').TestContext) {
  const unhandled = unhandledRejections(t)
  const dir = path.join((await makeTempDir(t)).path, 'tree')
  await mkdir(path.join(dir, 'sub'), { recursive: true })
  const over = watchesOverFailingUnsubscribe()
  await over.watches.inspect(dir)
  assert.equal(over.pending.length, 1, 'a directory with subdirectories gets a subscription of its own')
  return { ...over, dir, unhandled }
}

test('a subtree subscription that arrives after close is ended, and its failed unsubscribe is not left unhandled', async (t) => {
  const { watches, pending, unsubscribed, unhandled } = await inspectedTree(t)
  assert.deepEqual(watches.close(), [])
  pending[0]!()
  await watches.settled()
  await waitFor(() => unsubscribed.length === 1, { message: 'the late subscription is ended' })
  await macrotask()
  assert.deepEqual(unhandled, [])
})

test('dropping a removed directory ends its subscription, and a failed unsubscribe is not left unhandled', async (t) => {
  const { watches, pending, unsubscribed, unhandled, dir } = await inspectedTree(t)
  pending[0]!()
  await watches.settled()
  assert.deepEqual(watches.established(), [dir])
  watches.drop(dir)
  assert.deepEqual(watches.established(), [])
  assert.deepEqual(unsubscribed, [dir])
  await macrotask()
  assert.deepEqual(unhandled, [])
})
