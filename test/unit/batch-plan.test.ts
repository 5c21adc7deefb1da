import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { isSmallRun, planBatch, SMALL_RUN_MAX_BYTES, SMALL_RUN_MAX_PATHS, type PathKind } from '../../src/sync/batch-plan.js'

const tree = (entries: Record<string, PathKind>) => (rel: string): PathKind => entries[rel] ?? 'missing'

test('existing files are listed as they are, sorted', () => {
  assert.deepEqual(planBatch(['b.txt', 'a.txt'], tree({ 'a.txt': 'other', 'b.txt': 'other' })), ['a.txt', 'b.txt'])
})

test('a deleted directory is listed once, at its top-most missing ancestor', () => {
  const kinds = tree({ keep: 'dir' })
  assert.deepEqual(planBatch(['gone/sub/file', 'gone/sub', 'gone'], kinds), ['gone'])
  assert.deepEqual(planBatch(['gone/sub/file'], kinds), ['gone'])
  assert.deepEqual(planBatch(['keep/gone/x'], kinds), ['keep/gone'])
})

test('paths below a listed (recursed) directory are dropped', () => {
  const kinds = tree({ d: 'dir', 'd/a': 'other', 'd/sub': 'dir', 'd/sub/b': 'other', e: 'other' })
  assert.deepEqual(planBatch(['d/a', 'd', 'd/sub/b', 'e', 'd/old'], kinds), ['d', 'e'])
})

test('a directory replaced by a file is listed as the file, not its old children', () => {
  const kinds = tree({ d: 'other' })
  assert.deepEqual(planBatch(['d/x', 'd/y/z'], kinds), ['d'])
})

test('the empty path is ignored', () => {
  assert.deepEqual(planBatch([''], tree({})), [])
})

test('hostile names pass through untouched', () => {
  const names = ['sp ace', 'new\nline', '-leading', '--double', 'ünï', 'st*ar', 'back\\slash', '"q\'']
  const kinds = tree(Object.fromEntries(names.map((n) => [n, 'other' as const])))
  assert.deepEqual(planBatch(names, kinds), [...names].sort())
})

test('a small run is a few files and deletions that fit in the socket buffers; a directory never is', (t) => {
  const source = mkdtempSync(path.join(tmpdir(), 'syncplane-small-run-'))
  t.after(() => rmSync(source, { recursive: true, force: true }))
  writeFileSync(path.join(source, 'a.jpg'), Buffer.alloc(4096))
  writeFileSync(path.join(source, 'big.bin'), Buffer.alloc(SMALL_RUN_MAX_BYTES + 1))
  mkdirSync(path.join(source, 'new-dir'))
  assert.equal(isSmallRun(source, ['a.jpg', 'gone.jpg']), true)
  assert.equal(isSmallRun(source, ['big.bin']), false)
  assert.equal(isSmallRun(source, ['a.jpg', 'new-dir']), false)
  assert.equal(isSmallRun(source, Array.from({ length: SMALL_RUN_MAX_PATHS + 1 }, (_, i) => `gone-${i}`)), false)
})
