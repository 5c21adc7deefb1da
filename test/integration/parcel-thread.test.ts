import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { writeFile } from 'node:fs/promises'
import { getPriority } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { threadsAt } from '../helpers/threads.js'
import type { Change, Watcher } from '../../src/watcher/watcher.js'
import { createParcelThreadWatcher } from '../../src/watcher/parcel-thread.js'

// The thread runs the built entry, as the service does (on Node 20 a worker does not get tsx's hooks).
const BUILT = new URL('../../dist/parcel-thread-entry.js', import.meta.url)

const CRASHING = new URL('../fixtures/crashing-watcher-thread.mjs', import.meta.url)
const EXITING = new URL('../fixtures/exiting-watcher-thread.mjs', import.meta.url)
const LATE_CHANGES = new URL('../fixtures/late-changes-watcher-thread.mjs', import.meta.url)
const NEVER_READY = new URL('../fixtures/never-ready-watcher-thread.mjs', import.meta.url)

function harness (root: string, entry = BUILT) {
  const changes: Change[] = []
  const degraded: string[] = []
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { logs.push(JSON.parse(chunk.toString())); done() } })
  const logger = pino({ level: 'debug' }, sink).child({ component: 'watcher' })
  const watcher: Watcher = createParcelThreadWatcher({
    root,
    excludes: ['*.tmp'],
    logger,
    nice: 5,
    entry,
    sink: { onChanges: (c) => changes.push(...c), onDegraded: (m) => degraded.push(m) },
  })
  return { watcher, changes, degraded, logs }
}

// One test only runs the real thread: parcel's addon loads in one thread per process.
test('changes the watcher thread sees reach the service thread, its log lines the service log, and it runs nicer', async (t) => {
  const tmp = await makeTempDir(t)
  const h = harness(tmp.path)
  tmp.after(() => h.watcher.close())
  const own = getPriority()
  const nicedBefore = threadsAt(Math.min(19, own + 5))
  const levelBefore = threadsAt(own)
  await h.watcher.start()
  assert.equal(h.watcher.status().state, 'running')
  assert.equal(threadsAt(Math.min(19, own + 5)), nicedBefore + 1, 'the watcher thread runs 5 nicer than this one')
  // parcel's native threads (its inotify reader among them) must keep up with a burst.
  assert.ok(threadsAt(own) > levelBefore, `parcel's native threads keep this thread's priority: ${levelBefore} at it before the start, ${threadsAt(own)} after`)
  assert.equal(getPriority(), own, 'the service thread keeps its priority')

  const hostile = '-a name\nwith *, \\ and ü'
  await writeFile(path.join(tmp.path, hostile), 'x')
  await writeFile(path.join(tmp.path, 'skipped.tmp'), 'x')
  await writeFile(path.join(tmp.path, 'last.txt'), 'x')
  await waitFor(() => h.changes.some((c) => c.path === 'last.txt'), { message: 'last.txt reported' })
  assert.ok(h.changes.some((c) => c.path === hostile && c.kind === 'add'), `reported: ${JSON.stringify(h.changes)}`)
  assert.ok(!h.changes.some((c) => c.path === 'skipped.tmp'), 'an excluded name is not reported')

  const watching = h.logs.find((l) => l.msg === 'watching')
  assert.equal(watching?.component, 'watcher', 'the thread logs under the service logger, with its bindings')
  assert.equal(watching?.backend, 'parcel')
})

test('a watcher thread that dies turns the watcher degraded and says why', async (t) => {
  const tmp = await makeTempDir(t)
  const h = harness(tmp.path, CRASHING)
  tmp.after(() => h.watcher.close())
  await h.watcher.start()
  await waitFor(() => h.degraded.length > 0, { message: 'degraded reported' })
  assert.match(h.degraded[0]!, /watcher thread failed: native watcher blew up/)
  assert.equal(h.watcher.status().state, 'degraded')
  assert.ok(h.logs.some((l) => l.level === 50 && /events will be missed/.test(String(l.msg))))
})

test('a watcher thread that leaves before it is watching fails the start', async (t) => {
  const tmp = await makeTempDir(t)
  const h = harness(tmp.path, EXITING)
  await assert.rejects(h.watcher.start(), { code: 'SP_WATCHER_THREAD_EXITED', message: /exited \(code 3\) before it was watching/ })
})

test('changes the thread hands over while it closes still reach the service, and the close is no failure', async (t) => {
  const tmp = await makeTempDir(t)
  const h = harness(tmp.path, LATE_CHANGES)
  await h.watcher.start()
  await h.watcher.close()
  assert.deepEqual(h.changes, [{ path: 'last words.txt', kind: 'add' }])
  assert.deepEqual(h.degraded, [], 'neither its late error nor its exit counts once closing')
  assert.equal(h.watcher.status().state, 'stopped')
  assert.ok(!h.logs.some((l) => l.level === 50), 'nothing logged as an error')
})

test('closing a watcher still starting ends its start, and it cannot start again', async (t) => {
  const tmp = await makeTempDir(t)
  const h = harness(tmp.path, NEVER_READY)
  const starting = h.watcher.start()
  await h.watcher.close()
  await assert.rejects(starting, /before it was watching/)
  await assert.rejects(h.watcher.start(), { code: 'SP_WATCHER_CLOSED', message: /closed/ })
  assert.deepEqual(h.degraded, [])
  assert.equal(h.watcher.status().state, 'stopped')
})
