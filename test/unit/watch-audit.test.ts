import { test } from 'node:test'
import assert from 'node:assert/strict'
import { lstatSync } from 'node:fs'
import { mkdir, symlink } from 'node:fs/promises'
import path from 'node:path'
import { createWatchAudit } from '../../src/watcher/watch-audit.js'
import { makeTempDir } from '../helpers/temp-dir.js'

// The inodes a watcher would watch are given by the test: the audit's walk is real, the inotify side is not.
const inodeOf = (abs: string): string => lstatSync(abs).ino.toString(16)

async function tree (t: import('node:test').TestContext): Promise<string> {
  const root = (await makeTempDir(t, 'syncplane-audit-')).path
  for (const dir of ['a/a1/a2', 'b/b1', 'c']) await mkdir(path.join(root, dir), { recursive: true })
  return root
}

test('a deep check of the watches looks at a directory a step when the budget is spent, and finds the outermost lost', async (t) => {
  const root = await tree(t)
  const watched = new Set(['', 'a', 'a/a1', 'c'].map((rel) => inodeOf(path.join(root, rel))))
  const audit = createWatchAudit(root, [{ dir: '', deep: true }], () => false, watched)
  let steps = 1
  while (!audit.step(0)) steps++
  assert.deepEqual(audit.settle(watched).map((abs) => path.relative(root, abs)).sort(), ['a/a1/a2', 'b'], 'b/b1 is below b: watched again with it')
  assert.equal(steps, 6, 'the root, a, a/a1, a/a1/a2, b and c (not b/b1, below a lost one): one a step')
})

test('a check of the watches: a directory made and watched while the check was under way is not lost', async (t) => {
  const root = await tree(t)
  const rels = ['', 'a', 'a/a1', 'a/a1/a2', 'b', 'b/b1', 'c']
  const atStart = new Set(rels.map((rel) => inodeOf(path.join(root, rel))))
  const audit = createWatchAudit(root, [{ dir: '', deep: true }], () => false, atStart)
  assert.equal(audit.step(0), false, 'the root')
  await mkdir(path.join(root, 'c', 'new'))
  await mkdir(path.join(root, 'c', 'lost'))
  while (!audit.step(0));
  // Read again at the end: the new directory is watched by then, the other is not.
  const atEnd = new Set([...atStart, inodeOf(path.join(root, 'c', 'new'))])
  assert.deepEqual(audit.settle(atEnd), [path.join(root, 'c', 'lost')])
  assert.equal(audit.step(0), true, 'nothing below c/new')
  assert.equal(audit.suspects(), false)
})

test('a check that is not deep looks two levels down, and skips what is left unwatched on purpose', async (t) => {
  const root = await tree(t)
  await mkdir(path.join(root, '.syncplane', 'staging'), { recursive: true })
  const audit = createWatchAudit(root, [{ dir: '', deep: false }], (abs) => abs === path.join(root, '.syncplane'), new Set([inodeOf(root), inodeOf(path.join(root, 'a'))]))
  while (!audit.step(Infinity));
  assert.deepEqual(audit.settle(new Set()).map((abs) => path.relative(root, abs)).sort(), ['a/a1', 'b', 'c'], 'a/a1/a2 is three levels down')
})

test('a check of the watches goes on below a directory watched by the time it is settled: a tree moved in may have only its top watched', async (t) => {
  const root = await tree(t)
  await mkdir(path.join(root, 'moved', 'inner'), { recursive: true })
  const rels = ['', 'a', 'a/a1', 'a/a1/a2', 'b', 'b/b1', 'c']
  const atStart = new Set(rels.map((rel) => inodeOf(path.join(root, rel))))
  const audit = createWatchAudit(root, [{ dir: '', deep: true }], () => false, atStart)
  while (!audit.step(Infinity));
  const topWatched = new Set([...atStart, inodeOf(path.join(root, 'moved'))])
  assert.deepEqual(audit.settle(topWatched), [])
  while (!audit.step(Infinity));
  assert.equal(audit.suspects(), true)
  assert.deepEqual(audit.settle(topWatched), [path.join(root, 'moved', 'inner')])
})

test('a source given as a symlink to its directory has its watches checked like the directory itself', async (t) => {
  const root = await tree(t)
  const link = `${root}-link` // beside the tree, in the same temporary directory
  await symlink(root, link)
  const watched = new Set(['', 'a', 'a/a1', 'a/a1/a2', 'c'].map((rel) => inodeOf(path.join(root, rel))))
  const audit = createWatchAudit(link, [{ dir: '', deep: true }], () => false, watched)
  while (!audit.step(0));
  assert.deepEqual(audit.settle(watched), [path.join(link, 'b')])
})
