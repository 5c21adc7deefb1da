import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseRefused, parseStats, parseVanished, unescapeRsyncName } from '../../src/rsync/output.js'
import { retryDelayMs } from '../../src/sync/backoff.js'

test('stats come from --stats --no-human-readable output', () => {
  const out = 'Number of files: 3 (reg: 2, dir: 1)\nNumber of regular files transferred: 2\nTotal file size: 1500002 bytes\nTotal transferred file size: 1500002 bytes\n'
  assert.deepEqual(parseStats(out), { filesTransferred: 2, bytesTransferred: 1500002 })
  assert.deepEqual(parseStats(''), { filesTransferred: null, bytesTransferred: null })
})

test("rsync's \\#ooo escapes decode back to the real name", () => {
  assert.equal(unescapeRsyncName('new\\#012line'), 'new\nline')
  assert.equal(unescapeRsyncName('\\#303\\#274'), 'ü')
  assert.equal(unescapeRsyncName('plain'), 'plain')
})

test('vanished files are reported relative to the source', () => {
  const lines = ['file has vanished: "/srv/up/a b.txt"', 'file has vanished: "/srv/up/d/./x"', 'something else']
  assert.deepEqual(parseVanished(lines, '/srv/up'), ['a b.txt', 'd/x'])
})

test('names a daemon refused are read from its error lines', () => {
  const lines = ['ERROR: daemon refused to receive file "a b.forbidden"', 'ERROR: daemon refused to receive directory "d/sub"', 'ERROR: daemon refused to receive file "new\\#012line"']
  assert.deepEqual(parseRefused(lines), ['a b.forbidden', 'd/sub', 'new\nline'])
})

test('retry delays grow exponentially up to the cap, with bounded jitter', () => {
  const opts = { initialDelayMs: 1000, maxDelayMs: 8000, jitter: 0.2 }
  assert.equal(retryDelayMs(1, opts, () => 0.5), 1000)
  assert.equal(retryDelayMs(3, opts, () => 0.5), 4000)
  assert.equal(retryDelayMs(10, opts, () => 0.5), 8000)
  assert.equal(retryDelayMs(1, opts, () => 0), 800)
  assert.equal(retryDelayMs(1, opts, () => 1), 1200)
})
