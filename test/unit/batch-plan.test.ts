import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planBatch, type PathKind } from '../../src/sync/batch-plan.js'

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
