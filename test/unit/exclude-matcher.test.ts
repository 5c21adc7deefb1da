import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileExcludes, isRsyncTempName } from '../../src/watcher/exclude-matcher.js'

test('a plain name pattern matches the last component at any depth', () => {
  const m = compileExcludes(['*.tmp'])
  assert.equal(m('a.tmp', false), true)
  assert.equal(m('deep/dir/b.tmp', false), true)
  assert.equal(m('a.tmp.keep', false), false)
  assert.equal(m('x.tmp/inside.txt', false), true, 'an excluded directory excludes its content')
})

test('a pattern with a slash matches a trailing subpath; a leading slash anchors it', () => {
  const m = compileExcludes(['cache/**', '/top.log'])
  assert.equal(m('cache/a/b', false), true)
  assert.equal(m('sub/cache/a', false), true)
  assert.equal(m('cachex/a', false), false)
  assert.equal(m('top.log', false), true)
  assert.equal(m('sub/top.log', false), false)
})

test('a trailing slash matches directories only', () => {
  const m = compileExcludes(['build/'])
  assert.equal(m('build', true), true)
  assert.equal(m('build', false), false)
  assert.equal(m('build', undefined), false, 'unknown type is not excluded: never lose a change on a guess')
  assert.equal(m('build/out.js', false), true)
})

test('?, character classes and escapes follow rsync', () => {
  const m = compileExcludes(['file?.txt', '[ab]*.log', 'lit\\*eral'])
  assert.equal(m('file1.txt', false), true)
  assert.equal(m('file12.txt', false), false)
  assert.equal(m('a.log', false), true)
  assert.equal(m('c.log', false), false)
  assert.equal(m('lit*eral', false), true)
  assert.equal(m('litXeral', false), false)
})

test('dir/*** matches the directory and everything below it', () => {
  const m = compileExcludes(['tmp/***'])
  assert.equal(m('tmp', true), true)
  assert.equal(m('tmp/a/b', false), true)
})

test('no patterns exclude nothing', () => {
  assert.equal(compileExcludes([])('anything', false), false)
})

test("rsync's own temporary names are recognised", () => {
  assert.equal(isRsyncTempName('.photo.jpg.Ab3dE9'), true)
  assert.equal(isRsyncTempName('photo.jpg'), false)
  assert.equal(isRsyncTempName('.hidden'), false)
  assert.equal(isRsyncTempName('.env.backup'), false, 'a real dotfile with a lowercase six-letter suffix')
  assert.equal(isRsyncTempName('.app.config'), false)
})
