import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { getPriority } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { threadsAt } from '../helpers/threads.js'
import { spawnService } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { lstatKindOf } from '../../src/sync/batch-plan.js'
import { planRun } from '../../src/sync/source-lookup.js'
import { createLookupThread } from '../../src/sync/lookup-thread.js'

// The thread runs the built entry, as the service does (on Node 20 a worker does not get tsx's hooks).
const BUILT = new URL('../../dist/lookup-thread-entry.js', import.meta.url)

const EXITING = new URL('../fixtures/exiting-lookup-thread.mjs', import.meta.url)
const HOSTILE = '-a name\nwith *, \\ and ü'

/** A lookup thread over a small tree with hostile names; closed when the test ends. */
async function harness (t: TestContext, entry = BUILT) {
  const tmp = await makeTempDir(t)
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { logs.push(JSON.parse(chunk.toString())); done() } })
  const lookup = createLookupThread({ source: tmp.path, nice: 6, logger: pino(sink), entry })
  tmp.after(() => lookup.close())
  await mkdir(path.join(tmp.path, 'dir', 'sub'), { recursive: true })
  await writeFile(path.join(tmp.path, 'dir', HOSTILE), 'x')
  await writeFile(path.join(tmp.path, 'dir', 'sub', 'inside.txt'), 'x')
  await symlink('nowhere', path.join(tmp.path, 'dangling'))
  // A batch as a burst leaves it: new entries, one below a listed directory, and deletions deep in a tree gone whole.
  const batch = ['dir/sub', 'dir/sub/inside.txt', `dir/${HOSTILE}`, 'dangling', 'gone/a/b', 'gone/a/c', `dir/${HOSTILE}/below`]
  return { tmp, lookup, logs, batch }
}

test('the lookup thread plans a batch as the service thread would, and tells which names are gone, hostile names included', async (t) => {
  const h = await harness(t)
  const here = planRun(h.tmp.path, h.batch, lstatKindOf(h.tmp.path))
  const there = await h.lookup.plan(h.batch)
  // Below a file that replaced a directory, the file is listed; below a listed directory, nothing.
  assert.deepEqual(Buffer.from(there.input).toString().split('\0'), ['dangling', `dir/${HOSTILE}`, 'dir/sub', 'gone', ''])
  assert.deepEqual({ ...there, input: Buffer.from(there.input) }, { ...here, input: Buffer.from(here.input) })
  assert.deepEqual(await h.lookup.missing(['dir', 'gone', `dir/${HOSTILE}`, `dir/${HOSTILE}/below`]), ['gone', `dir/${HOSTILE}/below`])
  assert.deepEqual(await h.lookup.missing([]), [])
  // Several at once, each answered to its caller.
  const [a, b] = await Promise.all([h.lookup.missing(['gone', 'dir']), h.lookup.plan(['dir/sub/inside.txt'])])
  assert.deepEqual(a, ['gone'])
  assert.deepEqual(b.listed, 1)
  assert.equal(b.small, true)
})

test('the lookup thread runs nicer than the service thread', async (t) => {
  const h = await harness(t)
  const own = getPriority()
  await h.lookup.missing(['dir'])
  assert.equal(threadsAt(Math.min(19, own + 6)), 1, 'one thread 6 nicer than this one')
  assert.equal(getPriority(), own, 'the service thread keeps its priority')
})

test('a lookup thread that dies leaves no lookup unanswered: they run in-process, and it says so once', async (t) => {
  const h = await harness(t, EXITING)
  const expected = planRun(h.tmp.path, h.batch, lstatKindOf(h.tmp.path))
  assert.deepEqual(Buffer.from((await h.lookup.plan(h.batch)).input), Buffer.from(expected.input), 'the plan the thread took with it')
  assert.deepEqual(await h.lookup.missing(['dir', 'gone']), ['gone'], 'a later lookup')
  await waitFor(() => h.logs.length > 0, { message: 'the loss logged' })
  assert.equal(h.logs.filter((l) => l.level === 50).length, 1)
  assert.match(String(h.logs[0]!.msg), /lookup thread stopped/)
  assert.equal((h.logs[0]!.err as { code?: string } | undefined)?.code, 'SP_LOOKUP_THREAD_EXITED')
  await h.lookup.close()
})

test('lookups after close run in-process, and a close is no failure', async (t) => {
  const h = await harness(t)
  await h.lookup.missing(['dir'])
  await h.lookup.close()
  assert.deepEqual(await h.lookup.missing(['dir', 'gone']), ['gone'])
  assert.equal((await h.lookup.plan(h.batch)).listed, 4)
  assert.deepEqual(h.logs, [])
})

test('a burst through the built service plans its large batches on the lookup thread and reaches the target whole', async (t) => {
  const tmp = await makeTempDir(t)
  const replica = await startTarget(tmp, 'local', 'replica')
  const source = path.join(tmp.path, 'source')
  for (let d = 0; d < 10; d++) await mkdir(path.join(source, `d${d}`), { recursive: true })
  const svc = await spawnService(tmp, { config: { source, logLevel: 'debug', targets: [replica.config] } })
  await svc.waitReady()
  await Promise.all(Array.from({ length: 1_500 }, (_, i) => writeFile(path.join(source, `d${i % 10}`, `${i % 3 === 0 ? HOSTILE : 'f'}-${i}`), `${i}`)))
  await waitForTreesEqual(source, replica.dir, { ignore: isRsyncTempFile, timeoutMs: 30_000 })
  // The files can land before their job rows are closed: wait for the rows.
  const jobs = await waitFor(async () => {
    const listed = (await svc.api('/v1/jobs?kind=incremental&limit=500')).body.jobs as Array<{ pathsCount: number; status: string }>
    return listed.every((j) => j.status !== 'running' && j.status !== 'queued') ? listed : undefined
  }, { message: 'every run ends' })
  assert.ok(jobs.some((j) => j.pathsCount > 256 && j.status === 'succeeded'), `a batch large enough for the thread: ${JSON.stringify(jobs.map((j) => j.pathsCount))}`)
  assert.doesNotMatch(svc.proc.output(), /lookup thread stopped/)
})
