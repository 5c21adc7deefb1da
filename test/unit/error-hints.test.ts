import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { withCliHint, withHttpHint } from '../../src/error-hints.js'
import { ErrorCodes, InternalErrorCodes } from '../../src/errors.js'

test('an API caller is told the request to send after the message', () => {
  assert.equal(withHttpHint('WATCH_PAUSED', 'watching is paused: nothing would reach the targets'), 'watching is paused: nothing would reach the targets; POST /v1/watch/resume first')
  assert.equal(withHttpHint('TARGET_NOT_FOUND', 'no target named "x"'), 'no target named "x"')
})

test('the layers under HTTP say what went wrong, never which request to send', () => {
  const src = new URL('../../src/', import.meta.url)
  for (const layer of ['sync', 'db', 'rsync', 'watcher']) {
    for (const file of readdirSync(new URL(layer, src))) {
      const text = readFileSync(new URL(`${layer}/${file}`, src), 'utf8')
      assert.doesNotMatch(text, /\b(GET|POST|PUT|DELETE) \/v1\//, `src/${layer}/${file}`)
    }
  }
})

test('a CLI user is told the command to run, not the request to send', () => {
  assert.equal(withCliHint('WATCH_PAUSED', 'watching is paused: nothing would reach the targets; POST /v1/watch/resume first'), 'watching is paused: nothing would reach the targets; run "syncplane resume" first')
  assert.equal(withCliHint('WATCH_PAUSED', 'watching is paused'), 'watching is paused; run "syncplane resume" first')
  assert.equal(withCliHint('TARGET_NOT_FOUND', 'no target named "x"'), 'no target named "x"')
  assert.equal(withCliHint(undefined, 'bad gateway'), 'bad gateway')
})

test('API codes and internal codes never overlap', () => {
  for (const code of Object.keys(InternalErrorCodes)) {
    assert.match(code, /^SP_/)
    assert.ok(!(code in ErrorCodes), code)
  }
})
