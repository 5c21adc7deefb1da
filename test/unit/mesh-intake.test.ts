import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createIntake } from '../../src/mesh/intake.js'
import type { LocalChanges, ScanResult } from '../../src/mesh/local-changes.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'

/**
 * An intake over a real directory whose local-changes part is a fake: a
 * path in `local` is a change made here, any other one a peer's version
 * already recorded (its event finds nothing new).
 */
async function intakeOver (t: import('node:test').TestContext, local: ReadonlySet<string>) {
  const root = (await makeTempDir(t, 'syncplane-intake-')).path
  const calls = { scan: [] as string[][], scanDirs: [] as string[][] }
  const result = (paths: Iterable<string>): ScanResult => ({ versions: 0, tombstones: 0, deletesHeld: 0, changed: [...paths].filter((p) => local.has(p)) })
  const fake = {
    scan: (paths: Iterable<string>) => {
      calls.scan.push([...paths])
      return result(calls.scan.at(-1)!)
    },
    scanDirs: (dirs: Iterable<string>) => {
      calls.scanDirs.push([...dirs].sort())
      return result([])
    },
    scanTree: () => result([]),
    owe: () => {},
  } as unknown as LocalChanges
  const intake = createIntake({ root, local: fake, sourceFault: () => null, deletesHeld: () => {}, recorded: () => {} })
  t.after(() => intake.close())
  return { root, intake, calls }
}

test('intake: only the directories of changes made here are read again, not those where a peer\'s version landed', async (t) => {
  const { root, intake, calls } = await intakeOver(t, new Set(['mine/upload.txt']))
  for (const dir of ['mine', 'theirs']) await mkdir(path.join(root, dir))
  await writeFile(path.join(root, 'mine', 'upload.txt'), 'x')
  await writeFile(path.join(root, 'theirs', 'applied.txt'), 'x')

  intake.add(['mine/upload.txt', 'theirs/applied.txt'], true)
  assert.equal(intake.empty(), false)
  await waitFor(() => calls.scanDirs.length === 1, { message: 'the read again' })
  assert.deepEqual(calls.scanDirs, [['mine']])
  assert.equal(intake.empty(), true)
})

test('intake: reports that are all a peer\'s versions arm no read again; a directory reported itself is read whole', async (t) => {
  const { root, intake, calls } = await intakeOver(t, new Set())
  await mkdir(path.join(root, 'theirs', 'made'), { recursive: true })
  await writeFile(path.join(root, 'theirs', 'applied.txt'), 'x')

  intake.add(['theirs/applied.txt'], true)
  await waitFor(() => calls.scan.length === 1 && intake.empty(), { message: 'the echo looked at, nothing left to read' })
  intake.add(['theirs/made'], true)
  await waitFor(() => calls.scan.length === 3, { message: 'the directory looked at, then read whole again' })
  assert.deepEqual(calls.scan, [['theirs/applied.txt'], ['theirs/made'], ['theirs/made']])
  assert.deepEqual(calls.scanDirs, [])
})

test('intake: reports before the start are looked at but arm no read again', async (t) => {
  const { root, intake, calls } = await intakeOver(t, new Set(['early.txt']))
  await writeFile(path.join(root, 'early.txt'), 'x')
  intake.add(['early.txt'], false)
  intake.drain()
  assert.deepEqual(calls.scan, [['early.txt']])
  assert.equal(intake.empty(), true)
})
