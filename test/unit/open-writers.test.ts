import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { link, open, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { openForWrite } from '../../src/mesh/open-writers.js'
import { makeTempDir } from '../helpers/temp-dir.js'

const linux = existsSync('/proc/self/fd')

test('open-writers: a file this process has open for writing is reported, under a new name too; one open only to read, or closed, is not', { skip: !linux && 'no /proc here' }, async (t) => {
  const dir = (await makeTempDir(t, 'syncplane-open-writers-')).path
  const files = ['written', 'appended', 'updated', 'read', 'closed', 'moved', 'linked'].map((name) => path.join(dir, name))
  for (const f of files) await writeFile(f, 'x')
  const [written, appended, updated, read, closed, moved, linked] = files as [string, string, string, string, string, string, string]
  const handles = await Promise.all([open(written, 'w'), open(appended, 'a'), open(updated, 'r+'), open(read, 'r'), open(moved, 'w'), open(linked, 'w')])
  t.after(() => Promise.all(handles.map((h) => h.close().catch(() => undefined))))
  await (await open(closed, 'w')).close()
  // Displaced as syncplane does it: renamed aside, or linked aside and its name replaced (the writer's link then reads "… (deleted)").
  const movedTo = path.join(dir, 'moved-aside')
  await rename(moved, movedTo)
  const linkedTo = path.join(dir, 'linked-aside')
  await link(linked, linkedTo)
  await writeFile(path.join(dir, 'replacement'), 'y')
  await rename(path.join(dir, 'replacement'), linked)

  const found = await openForWrite([written, appended, updated, read, closed, movedTo, linkedTo, path.join(dir, 'absent')])
  assert.deepEqual([...found ?? []].sort(), [appended, linkedTo, movedTo, updated, written].sort())
  assert.deepEqual(await openForWrite([]), new Set())
})

test('open-writers: without a /proc to read, it says it cannot tell (null)', async (t) => {
  const dir = (await makeTempDir(t, 'syncplane-open-writers-')).path
  await writeFile(path.join(dir, 'f'), 'x')
  assert.equal(await openForWrite([path.join(dir, 'f')], path.join(dir, 'no-proc')), null)
  // A directory without any process in it is no /proc either.
  assert.equal(await openForWrite([path.join(dir, 'f')], dir), null)
})
