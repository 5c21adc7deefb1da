import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createIntake } from '../../src/mesh/intake.js'
import type { LocalChanges, ScanResult } from '../../src/mesh/local-changes.js'
import type { WatchCheck } from '../../src/watcher/watcher.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'

/**
 * An intake over a real directory whose local-changes part is a fake that
 * records what it was asked to look at.
 */
/** The source fault, counting the questions (a read again asks before it reads). */
const ask = (fault: { now: string | null, asked: number }): string | null => {
  fault.asked++
  return fault.now
}

interface FakeScans {
  /** Paths whose scan finds a directory gone. */
  dirsGone?: ReadonlySet<string>
  /** How long a read of the whole tree keeps the event loop, in ms, all its slices together. */
  treeMs?: number
  /** In how many slices it reads the tree (1 by default). */
  treeSlices?: number
  /** Paths whose scan holds deletions (the mass-delete guard). */
  held?: ReadonlySet<string>
}

/** Whether the node sends or applies batches, counting the questions; and the longest the read again waits for it. */
interface Busy { now: boolean, asked: number, deferMaxMs?: number }

async function intakeOver (t: import('node:test').TestContext, fault: { now: string | null, asked: number } = { now: null, asked: 0 }, scans: FakeScans = {}, busy: Busy = { now: false, asked: 0 }, rescanEveryMs = 0) {
  const root = (await makeTempDir(t, 'syncplane-intake-')).path
  /** `wholeReads`: each read of the whole tree that ended, from its first slice to its last. */
  const calls = { scan: [] as string[][], scanDirs: [] as string[][], checkWatches: [] as WatchCheck[][], wholeReads: [] as Array<{ start: number, end: number, busyMs: number }>, slices: 0, held: [] as Array<{ count: number, scan: string }>, stale: 0 }
  const result = (dirsGone = 0): ScanResult => ({ versions: 0, tombstones: 0, deletesHeld: 0, dirsGone })
  const fake = {
    scan: (paths: Iterable<string>) => {
      const list = [...paths]
      calls.scan.push(list)
      return { ...result(list.filter((p) => scans.dirsGone?.has(p) === true).length), deletesHeld: list.filter((p) => scans.held?.has(p) === true).length }
    },
    scanDirs: (dirs: Iterable<string>) => {
      calls.scanDirs.push([...dirs].sort())
      return result()
    },
    walkTree: () => {
      const slices = scans.treeSlices ?? 1
      let left = slices
      let start: number | null = null
      let busyMs = 0
      return {
        result: result(),
        stale: () => { calls.stale++ },
        step: () => {
          start ??= Date.now()
          const sliceStart = performance.now()
          while (performance.now() - sliceStart < (scans.treeMs ?? 0) / slices);
          busyMs += performance.now() - sliceStart
          calls.slices++
          if (--left > 0) return false
          calls.wholeReads.push({ start, end: Date.now(), busyMs })
          return true
        },
      }
    },
    owe: () => {},
  } as unknown as LocalChanges
  const intake = createIntake({ root, local: fake, sourceFault: () => ask(fault), checkWatches: (c) => calls.checkWatches.push([...c]), deletesHeld: (count, scan) => calls.held.push({ count, scan }), recorded: () => {}, busy: () => { busy.asked++; return busy.now }, verifyDeferMaxMs: busy.deferMaxMs, rescanEveryMs })
  t.after(() => intake.close())
  return { root, intake, calls }
}

test('intake: the directories of reported paths are read again once the reports stop, where a peer\'s version landed too', async (t) => {
  const { root, intake, calls } = await intakeOver(t)
  for (const dir of ['mine', 'theirs']) await mkdir(path.join(root, dir))
  await writeFile(path.join(root, 'mine', 'upload.txt'), 'x')
  await writeFile(path.join(root, 'theirs', 'applied.txt'), 'x')

  intake.add(['mine/upload.txt', 'theirs/applied.txt', 'top.txt'], true)
  assert.equal(intake.empty(), false)
  await waitFor(() => calls.scanDirs.length === 1, { message: 'the read again' })
  assert.deepEqual(calls.scanDirs, [['', 'mine', 'theirs']])
  assert.deepEqual(calls.checkWatches, [[{ dir: 'mine', deep: false }, { dir: 'theirs', deep: false }, { dir: '', deep: false }]], 'the watcher checks the watches there')
  assert.equal(intake.empty(), true)
})

test('intake: the read again waits while the node sends or applies batches, and comes once it stops', async (t) => {
  const busy: Busy = { now: true, asked: 0 }
  const { root, intake, calls } = await intakeOver(t, undefined, undefined, busy)
  await mkdir(path.join(root, 'dir'))
  await writeFile(path.join(root, 'dir', 'upload.txt'), 'x')
  intake.add(['dir/upload.txt'], true)
  await waitFor(() => busy.asked >= 3, { message: 'the read again came and found the node busy, more than once' })
  assert.deepEqual(calls.scanDirs, [], 'not read while busy')
  assert.equal(intake.empty(), false, 'the node is not idle while the read again waits')
  busy.now = false
  await waitFor(() => calls.scanDirs.length === 1, { message: 'the read again once the node is no longer busy' })
  assert.deepEqual(calls.scanDirs, [['dir']])
  assert.equal(intake.empty(), true)
})

test('intake: a node busy for longer than the longest wait has its directories read again anyway', async (t) => {
  const busy: Busy = { now: true, asked: 0, deferMaxMs: 300 }
  const { root, intake, calls } = await intakeOver(t, undefined, undefined, busy)
  await writeFile(path.join(root, 'upload.txt'), 'x')
  intake.add(['upload.txt'], true)
  await waitFor(() => calls.scanDirs.length === 1, { message: 'the read again despite the busy node' })
  assert.ok(busy.asked >= 2, `it waited first (asked ${busy.asked} times)`)
  assert.equal(busy.now, true)
  assert.equal(intake.empty(), true)
})

test('intake: a directory reported itself is looked at, then read whole again once the reports stop', async (t) => {
  const { root, intake, calls } = await intakeOver(t)
  await mkdir(path.join(root, 'theirs', 'made'), { recursive: true })
  intake.add(['theirs/made'], true)
  await waitFor(() => calls.scan.length === 2 && intake.empty(), { message: 'the directory looked at, then read whole again' })
  assert.deepEqual(calls.scan, [['theirs/made'], ['theirs/made']])
  assert.deepEqual(calls.scanDirs, [['theirs']])
  assert.deepEqual(calls.checkWatches, [[{ dir: 'theirs', deep: false }, { dir: 'theirs/made', deep: true }]])
})

test('intake: reports before the start are looked at but arm no read again', async (t) => {
  const { root, intake, calls } = await intakeOver(t)
  await writeFile(path.join(root, 'early.txt'), 'x')
  intake.add(['early.txt'], false)
  intake.drain()
  assert.deepEqual(calls.scan, [['early.txt']])
  assert.deepEqual(calls.scanDirs, [])
  assert.deepEqual(calls.checkWatches, [])
  assert.equal(intake.empty(), true)
})

test('intake: reports before the start are looked at once the start reads the whole tree, so the node can be idle', async (t) => {
  const { root, intake, calls } = await intakeOver(t)
  await writeFile(path.join(root, 'early.txt'), 'x')
  intake.add(['early.txt'], false)
  assert.equal(intake.empty(), false)
  intake.rescan()
  assert.deepEqual(calls.checkWatches, [[{ dir: '', deep: true }]])
  await waitFor(() => intake.empty(), { message: 'the reported path looked at' })
  assert.deepEqual(calls.scan, [['early.txt']])
})

test('intake: paths reported as a read of the whole tree begins are looked at within milliseconds, not when the read reaches them', async (t) => {
  const { root, intake, calls } = await intakeOver(t, undefined, { treeMs: 400, treeSlices: 20 })
  await writeFile(path.join(root, 'upload.txt'), 'x')
  intake.add(['upload.txt'], true)
  intake.rescan()
  await waitFor(() => calls.scan.length === 1, { message: 'the path looked at' })
  assert.deepEqual(calls.wholeReads, [], 'while the read is under way (a flush meanwhile finds the path recorded)')
})

test('intake: startRead resolves once a read of the whole tree has ended, false when its signal aborts first', async (t) => {
  const { intake } = await intakeOver(t, undefined, { treeMs: 100, treeSlices: 5 })
  // AbortSignal.timeout's timer would not keep the test's event loop alive.
  const soon = new AbortController()
  setTimeout(() => soon.abort(), 20)
  assert.equal(await intake.startRead(soon.signal), false, 'no read yet')
  intake.start()
  const read = intake.startRead(new AbortController().signal)
  assert.equal(intake.empty(), false)
  assert.equal(await read, true)
  assert.equal(intake.empty(), true)
  assert.equal(await intake.startRead(new AbortController().signal), true, 'at once from then on')
})

test('intake: directories a source fault kept from their read again wait for nothing after the rescan once it clears', async (t) => {
  const fault = { now: null as string | null, asked: 0 }
  const { root, intake, calls } = await intakeOver(t, fault)
  await writeFile(path.join(root, 'upload.txt'), 'x')
  intake.add(['upload.txt'], true)
  await waitFor(() => calls.scan.length === 1, { message: 'the path looked at' })
  fault.now = 'unmounted'
  fault.asked = 0
  await waitFor(() => fault.asked > 0, { message: 'the read again came, and found the fault' })
  assert.deepEqual(calls.scanDirs, [])
  assert.equal(intake.waiting(), 1, 'the directory waits')
  fault.now = null
  intake.faultCleared()
  assert.equal(intake.empty(), true, 'the rescan looked at the whole tree')
})

test('intake: a directory gone has the whole tree read once the reports stop, and the node is not idle until then', async (t) => {
  const { root, intake, calls } = await intakeOver(t, undefined, { dirsGone: new Set(['moved-away']) })
  await mkdir(path.join(root, 'moved-here'))
  intake.add(['moved-away', 'moved-here'], true)
  await waitFor(() => calls.scan.some((paths) => paths.includes('moved-away')), { message: 'the deletion settled' })
  assert.equal(intake.empty(), false, 'the sweep is still to come')
  await waitFor(() => calls.wholeReads.length === 1, { message: 'the sweep' })
  assert.deepEqual(calls.checkWatches.at(-1), [{ dir: '', deep: true }], 'every watch checked')
  assert.equal(intake.empty(), true)
})

test('intake: a sweep waits nine times as long as the last read of the whole tree took', async (t) => {
  const treeMs = 150
  const { intake, calls } = await intakeOver(t, undefined, { dirsGone: new Set(['gone-dir']), treeMs })
  intake.rescan()
  intake.add(['gone-dir'], true)
  await waitFor(() => calls.wholeReads.length === 2, { message: 'the sweep', timeoutMs: 10_000 })
  const [first, sweep] = [calls.wholeReads[0]!, calls.wholeReads[1]!]
  assert.ok(sweep.start - first.end >= 9 * treeMs, `the sweep came ${sweep.start - first.end} ms after the last read, which took ${treeMs} ms`)
  assert.equal(intake.empty(), true)
})

test('intake: a read of the whole tree gives the event loop back between its slices, and the node is not idle until it ends', async (t) => {
  const { intake, calls } = await intakeOver(t, undefined, { treeMs: 200, treeSlices: 5 })
  const answered = new Promise<number>((resolve) => setTimeout(() => resolve(calls.slices), 0))
  intake.rescan()
  assert.equal(calls.slices, 1, 'the first slice at once')
  assert.equal(intake.empty(), false)
  assert.ok(await answered < 5, 'a timer ran before the read ended')
  await waitFor(() => calls.wholeReads.length === 1, { message: 'the read of the whole tree' })
  assert.equal(calls.slices, 5)
  assert.equal(intake.empty(), true)
})

test('intake: a read of the whole tree asked for while one is under way comes right after it, without waiting its budget', async (t) => {
  const { intake, calls } = await intakeOver(t, undefined, { treeMs: 90, treeSlices: 3 })
  intake.rescan()
  intake.rescan()
  await waitFor(() => calls.wholeReads.length === 2, { message: 'both reads' })
  const [first, second] = [calls.wholeReads[0]!, calls.wholeReads[1]!]
  assert.ok(second.start - first.end < 9 * 90, `the second came ${second.start - first.end} ms after the first`)
  assert.equal(intake.empty(), true)
})

test('intake: a source fault during a read of the whole tree drops the rest of it; the whole tree is read once the fault clears', async (t) => {
  const fault = { now: null as string | null, asked: 0 }
  const { intake, calls } = await intakeOver(t, fault, { treeSlices: 3 })
  intake.rescan()
  fault.now = 'unmounted'
  await waitFor(() => intake.empty(), { message: 'the read dropped' })
  assert.equal(calls.slices, 1, 'no slice read under the fault')
  assert.deepEqual(calls.wholeReads, [])
  fault.now = null
  intake.faultCleared()
  await waitFor(() => calls.wholeReads.length === 1, { message: 'the read once the fault cleared' })
  assert.equal(calls.slices, 4)
})

test('intake: once started, the whole tree is read again every rescan interval', async (t) => {
  const { intake, calls } = await intakeOver(t, undefined, {}, undefined, 100)
  intake.start()
  assert.equal(calls.wholeReads.length, 1, 'the start reads it at once')
  await waitFor(() => calls.wholeReads.length === 4, { message: 'three more reads' })
  const gaps = calls.wholeReads.slice(1).map((r, i) => r.start - calls.wholeReads[i]!.end)
  assert.ok(gaps.every((gap) => gap >= 99), `gaps ${gaps.join(', ')} ms`)
})

test('intake: the periodic read of the whole tree waits nine times as long as the last took, when that is longer than the interval', async (t) => {
  const treeMs = 60
  const { intake, calls } = await intakeOver(t, undefined, { treeMs, treeSlices: 3 }, undefined, 100)
  intake.start()
  await waitFor(() => calls.wholeReads.length === 3, { message: 'two more reads', timeoutMs: 10_000 })
  const reads = calls.wholeReads
  // Date.now() rounds to the millisecond: 2 ms of slack.
  const short = reads.slice(1).filter((r, i) => r.start - reads[i]!.end < 9 * reads[i]!.busyMs - 2)
  assert.deepEqual(short, [], `reads ${JSON.stringify(reads)}`)
})

test('intake: deletions a scan of a few paths held are reported at once, and counted again by the read of the whole tree it asks for', async (t) => {
  const { intake, calls } = await intakeOver(t, undefined, { held: new Set(['big']), treeMs: 100, treeSlices: 5 })
  intake.add(['big'], true)
  await waitFor(() => calls.held.length > 0, { message: 'the hold' })
  assert.deepEqual(calls.held[0], { count: 1, scan: 'partial' })
  await waitFor(() => calls.wholeReads.length === 1, { message: 'the read of the whole tree' })
  assert.deepEqual(calls.held.at(-1), { count: 0, scan: 'whole' })
})

test('intake: a read of the whole tree under way when deletions are held counts as stale, and a read after it counts them whole', async (t) => {
  const { root, intake, calls } = await intakeOver(t, undefined, { held: new Set(['big']), treeMs: 300, treeSlices: 15 })
  // On disk: looked at within milliseconds (a path gone waits a second for the rest of its burst).
  await writeFile(path.join(root, 'big'), 'x')
  intake.rescan()
  intake.add(['big'], true)
  await waitFor(() => calls.wholeReads.length === 2, { message: 'the read after it' })
  assert.equal(calls.stale, 1, 'the hold came while the first read was under way')
  assert.deepEqual(calls.held, [{ count: 1, scan: 'partial' }, { count: 0, scan: 'stale' }, { count: 0, scan: 'whole' }])
})

test('intake: a confirmation during a read of the whole tree makes it stale, and another read follows at once', async (t) => {
  const { intake, calls } = await intakeOver(t, undefined, { treeMs: 150, treeSlices: 5 })
  intake.rescan()
  intake.confirmed()
  await waitFor(() => calls.wholeReads.length === 2, { message: 'both reads' })
  assert.equal(calls.stale, 1)
  assert.deepEqual(calls.held.map((h) => h.scan), ['stale', 'whole'])
  assert.ok(calls.wholeReads[1]!.start - calls.wholeReads[0]!.end < 9 * 150, 'without waiting its budget')
})
