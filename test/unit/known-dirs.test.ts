import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rm, symlink } from 'node:fs/promises'
import path from 'node:path'
import { createKnownDirs } from '../../src/mesh/known-dirs.js'
import { makeTempDir } from '../helpers/temp-dir.js'

// A slice of a peer's batch looks at each directory on the way once; only
// directories are remembered, and what the slice removes is forgotten.

test('a directory seen once is known without looking again; a symlink or a missing path is looked at every time', async (t) => {
  const tmp = await makeTempDir(t, 'known-dirs-')
  const dir = path.join(tmp.path, 'd')
  const link = path.join(tmp.path, 'l')
  await mkdir(dir)
  await symlink(dir, link)
  const known = createKnownDirs()
  assert.deepEqual(known.look(dir), { type: 'dir' })
  assert.deepEqual(known.look(link), { type: 'other' })
  assert.equal(known.look(path.join(tmp.path, 'none')), null)
  assert.equal(known.has(dir), true)
  assert.equal(known.has(link), false)
  // The symlink was not remembered: a directory put in its place is seen as one.
  await rm(link)
  await mkdir(link)
  assert.deepEqual(known.look(link), { type: 'dir' })
})

test('a removed directory and everything known below it are looked at again', async (t) => {
  const tmp = await makeTempDir(t, 'known-dirs-')
  const a = path.join(tmp.path, 'a')
  await mkdir(path.join(a, 'b'), { recursive: true })
  const known = createKnownDirs()
  known.look(a)
  known.look(path.join(a, 'b'))
  known.made(path.join(tmp.path, 'ab'))
  await rm(a, { recursive: true })
  known.removed(a)
  assert.equal(known.look(a), null)
  assert.equal(known.look(path.join(a, 'b')), null)
  // A sibling whose name only starts the same stays known.
  assert.equal(known.has(path.join(tmp.path, 'ab')), true)
})
