import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { readdirSync } from 'node:fs'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { getPriority } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
// The thread runs the built entry beside the module (on Node 20 a worker does not get tsx's hooks), so this test takes the built module.
const { createLookupThread } = await import('../../dist/sync/lookup-thread.js' as string) as typeof import('../../src/sync/lookup-thread.js')

const EXITING = new URL('../fixtures/exiting-lookup-thread.mjs', import.meta.url)

async function harness (entry?: URL) {
  const tmp = await makeTempDir()
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _enc, done) { logs.push(JSON.parse(chunk.toString())); done() } })
  const lookup = createLookupThread({ source: tmp.path, nice: 6, logger: pino(sink), ...(entry === undefined ? {} : { entry }) })
  await mkdir(path.join(tmp.path, 'dir', 'sub'), { recursive: true })
  const hostile = '-a name\nwith *, \\ and ü'
  await writeFile(path.join(tmp.path, 'dir', hostile), 'x')
  await symlink('nowhere', path.join(tmp.path, 'dangling'))
  const paths = ['dir', 'dir/sub', `dir/${hostile}`, 'dangling', 'gone', 'dir/gone/deeper', `dir/${hostile}/below`]
  const expected = new Map([['dir', 'dir'], ['dir/sub', 'dir'], [`dir/${hostile}`, 'other'], ['dangling', 'other'], ['gone', 'missing'], ['dir/gone/deeper', 'missing'], [`dir/${hostile}/below`, 'missing']])
  return { tmp, lookup, logs, paths, expected }
}

test('the lookup thread tells directories, other entries and missing paths apart, hostile names included', async (t) => {
  const h = await harness()
  t.after(async () => {
    await h.lookup.close()
    await h.tmp.cleanup()
  })
  assert.deepEqual(await h.lookup.kindsOf(h.paths), h.expected)
  assert.deepEqual(await h.lookup.kindsOf([]), new Map())
  // Many at once, answered in order of asking, each to its own caller.
  const [a, b] = await Promise.all([h.lookup.kindsOf(['gone', 'dir']), h.lookup.kindsOf(['dir/sub'])])
  assert.deepEqual(a, new Map([['gone', 'missing'], ['dir', 'dir']]))
  assert.deepEqual(b, new Map([['dir/sub', 'dir']]))
})

test('the lookup thread runs nicer than the service thread', async (t) => {
  const h = await harness()
  t.after(async () => {
    await h.lookup.close()
    await h.tmp.cleanup()
  })
  const own = getPriority()
  const niced = (): number => readdirSync('/proc/self/task').filter((tid) => {
    try {
      return getPriority(Number(tid)) === Math.min(19, own + 6)
    } catch {
      return false
    }
  }).length
  await h.lookup.kindsOf(['dir'])
  assert.equal(niced(), 1, 'one thread 6 nicer than this one')
  assert.equal(getPriority(), own, 'the service thread keeps its priority')
})

test('a lookup thread that dies leaves no lookup unanswered: they run in-process, and it says so once', async (t) => {
  const h = await harness(EXITING)
  t.after(h.tmp.cleanup)
  assert.deepEqual(await h.lookup.kindsOf(h.paths), h.expected, 'the lookup the thread took with it')
  assert.deepEqual(await h.lookup.kindsOf(['dir', 'gone']), new Map([['dir', 'dir'], ['gone', 'missing']]), 'a later one')
  await waitFor(() => h.logs.length > 0, { message: 'the loss logged' })
  assert.equal(h.logs.filter((l) => l.level === 50).length, 1)
  assert.match(String(h.logs[0]!.msg), /lookup thread stopped/)
  await h.lookup.close()
})

test('lookups after close run in-process', async (t) => {
  const h = await harness()
  t.after(h.tmp.cleanup)
  await h.lookup.kindsOf(['dir'])
  await h.lookup.close()
  assert.deepEqual(await h.lookup.kindsOf(h.paths), h.expected)
  assert.deepEqual(h.logs, [], 'a close is no failure')
})
