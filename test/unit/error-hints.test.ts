import { test } from 'node:test'
import assert from 'node:assert/strict'
import { withCliHint, withHttpHint } from '../../src/error-hints.js'
import { ErrorCodes, InternalErrorCodes } from '../../src/errors.js'

test('the HTTP hint is added once, whether or not the message already carries it', () => {
  const bare = 'watching is paused: nothing would reach the targets'
  const hinted = `${bare}; POST /v1/watch/resume first`
  assert.equal(withHttpHint('WATCH_PAUSED', bare), hinted)
  assert.equal(withHttpHint('WATCH_PAUSED', hinted), hinted)
  assert.equal(withHttpHint('TARGET_NOT_FOUND', 'no target named "x"'), 'no target named "x"')
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
