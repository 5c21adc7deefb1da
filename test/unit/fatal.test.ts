import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { CRASH_EXIT_CODE, createFatalHandler } from '../../src/fatal.js'
import { waitFor } from '../helpers/wait-for.js'

/** A pino logger writing into an array, and the fatal handler the entry point would install over it. */
function harness (opts: { flushMs?: number } = {}) {
  const lines: string[] = []
  const stream = Object.assign(new Writable({
    write (chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
      done()
    },
  }), {
    // Like pino's own destination: asynchronous, and flush() calls back once written.
    flush (cb: () => void) {
      setTimeout(cb, opts.flushMs ?? 0)
    },
  })
  const exits: number[] = []
  const fatal = createFatalHandler({ logger: pino({ base: { service: 'syncplane' } }, stream), exit: (code) => exits.push(code) })
  return { lines, exits, fatal }
}

test('an uncaught exception is one JSON line with the error serialized, then a non-zero exit', async () => {
  const { lines, exits, fatal } = harness()
  fatal(new TypeError('cannot read properties of undefined'), 'uncaughtException')
  await waitFor(() => exits.length > 0, { message: 'the handler exits' })
  assert.deepEqual(exits, [CRASH_EXIT_CODE])
  assert.notEqual(CRASH_EXIT_CODE, 0)
  assert.notEqual(CRASH_EXIT_CODE, 2, 'exit 2 means a bad configuration, which a supervisor must not retry')
  assert.equal(lines.length, 1)
  const line = JSON.parse(lines[0]!)
  assert.equal(line.level, 60)
  assert.equal(line.origin, 'uncaughtException')
  assert.equal(line.err.type, 'TypeError')
  assert.equal(line.err.message, 'cannot read properties of undefined')
  assert.match(line.err.stack, /TypeError: cannot read properties/)
})

test('an unhandled rejection of a non-error still logs an error object', async () => {
  const { lines, exits, fatal } = harness()
  fatal({ code: 'EWHATEVER' }, 'unhandledRejection')
  await waitFor(() => exits.length > 0, { message: 'the handler exits' })
  const line = JSON.parse(lines[0]!)
  assert.equal(line.origin, 'unhandledRejection')
  assert.equal(line.err.type, 'NonError')
  assert.equal(line.err.code, 'SP_NON_ERROR_THROWN')
  assert.match(line.err.message, /EWHATEVER/)
})

test('a second failure while the first is being logged exits at once', () => {
  const { lines, exits, fatal } = harness({ flushMs: 50 })
  fatal(new Error('first'), 'uncaughtException')
  assert.deepEqual(exits, [], 'the first waits for its line to be written')
  fatal(new Error('second'), 'uncaughtException')
  assert.deepEqual(exits, [CRASH_EXIT_CODE], 'the second exits synchronously')
  assert.deepEqual(lines.map((l) => JSON.parse(l).err.message), ['first', 'second'])
})
