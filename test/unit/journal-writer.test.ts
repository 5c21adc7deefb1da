import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createPendingStore, type PendingRow } from '../../src/db/pending-store.js'
import { createDatabaseHealth } from '../../src/db/database-health.js'
import { createJournalWriter } from '../../src/sync/journal-writer.js'
import { compactJournalOps, type JournalOp } from '../../src/sync/journal-compaction.js'
import { createFakeTimers } from '../helpers/fake-timers.js'
import { capturingLogger, diskFull, failingStore } from '../helpers/failing-store.js'

function fresh () {
  const db = openDatabase(':memory:')
  migrate(db)
  const store = createPendingStore(db)
  return { db, store, writer: createJournalWriter(store) }
}

test('the journal is written a slice per turn, in the order the engine decided', async () => {
  const { db, store, writer } = fresh()
  for (let i = 0; i < 1_200; i++) writer.upsert({ target: 'a', path: `f${i}`, seq: 1, observedAt: 0 })
  // Delivered, then changed again: the delete must not overtake the rows it follows, nor the new row it.
  writer.remove('a', Array.from({ length: 1_200 }, (_, i) => ({ path: `f${i}`, seq: 1 })))
  writer.upsert({ target: 'a', path: 'f7', seq: 2, observedAt: 0 })
  assert.equal(store.loadAll().length, 0, 'nothing is written inside the turn that queued it')
  await nextTurn()
  assert.equal(store.loadAll().length, 500, 'one slice per turn')
  for (let i = 0; i < 10; i++) await nextTurn()
  assert.deepEqual(store.loadAll().map((r) => [r.path, r.seq]), [['f7', 2]])
  db.close()
})

test('a dropped target loses its queued rows, and flush writes everything at once', () => {
  const { db, store, writer } = fresh()
  writer.upsert({ target: 'a', path: 'x', seq: 1, observedAt: 0 })
  writer.upsert({ target: 'b', path: 'y', seq: 1, observedAt: 0 })
  writer.removeTarget('a')
  writer.upsert({ target: 'b', path: 'z', seq: 2, observedAt: 0 })
  writer.removeUpTo('b', 1)
  writer.flush()
  assert.deepEqual(store.loadAll().map((r) => `${r.target}/${r.path}`), ['b/z'])
  db.close()
})

/** A journal whose writes throw while `state.error` is set, with a health monitor and a clock of its own. */
function failing () {
  const db = openDatabase(':memory:')
  migrate(db)
  const real = createPendingStore(db)
  const { store, state } = failingStore(real, ['upsert', 'remove', 'removeUpTo', 'removeTarget'])
  const { logger, lines } = capturingLogger()
  const health = createDatabaseHealth({ logger })
  const clock = createFakeTimers()
  // random 0.5 puts the jitter in the middle: the waits are the plain doubling.
  const writer = createJournalWriter(store, { health, timers: clock.timers, random: () => 0.5, backoff: { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0.2 } })
  return { db, real, state, health, lines, clock, writer }
}

const rows = (target: string, from: number, to: number, seq: number) =>
  Array.from({ length: to - from }, (_, i) => ({ target, path: `f${from + i}`, seq, observedAt: 0 }))

test('a journal the database refuses keeps its queue, retries with growing waits, and catches up once there is room', () => {
  const { db, real, state, health, lines, clock, writer } = failing()
  state.error = diskFull()
  for (const r of rows('a', 0, 1_200, 1)) writer.upsert(r)
  clock.turn()
  assert.deepEqual(health.status().state, 'failing')
  assert.equal(health.status().error, 'database or disk is full (SQLITE_FULL) writing the journal')
  assert.deepEqual(clock.waiting(), [100], 'the first retry comes after the initial delay')
  assert.equal(clock.pendingImmediates(), 0, 'no write on the next turn: the retry waits')

  // Delivered meanwhile, and changed again: nothing may be lost or reordered.
  writer.remove('a', rows('a', 0, 1_000, 1))
  writer.upsert({ target: 'a', path: 'f7', seq: 2, observedAt: 0 })
  for (const r of rows('b', 0, 10, 3)) writer.upsert(r)
  const calls = state.calls
  clock.turn()
  assert.equal(state.calls, calls, 'new changes do not hammer a failing database')

  const waits: number[] = []
  for (let i = 0; i < 5; i++) {
    waits.push(clock.waiting()[0]!)
    clock.advance(clock.waiting()[0]!)
  }
  assert.deepEqual(waits, [100, 200, 400, 800, 1_000], 'capped exponential backoff')
  assert.equal(lines.filter((l) => l.msg.startsWith('database failing')).length, 1, 'logged once, not once per write')
  assert.equal(real.loadAll().length, 0)

  state.error = null
  clock.advance(clock.waiting()[0]!)
  assert.deepEqual(health.status(), { state: 'ok', error: null, since: null })
  assert.equal(writer.backlog(), 0)
  const journal = real.loadAll().map((r) => `${r.target}/${r.path}@${r.seq}`).sort()
  const expected = [...rows('a', 1_000, 1_200, 1).map((r) => `a/${r.path}@1`), 'a/f7@2', ...rows('b', 0, 10, 3).map((r) => `b/${r.path}@3`)].sort()
  assert.deepEqual(journal, expected)
  assert.equal(lines.filter((l) => l.msg.startsWith('database recovered')).length, 1)
  db.close()
})

test('a flush at shutdown says whether the database took everything and leaves no retry behind', () => {
  const { db, real, state, clock, writer } = failing()
  state.error = diskFull()
  writer.upsert({ target: 'a', path: 'x', seq: 1, observedAt: 0 })
  assert.equal(writer.flush(), false)
  assert.deepEqual(clock.waiting(), [], 'no timer outlives the shutdown')
  assert.equal(clock.pendingImmediates(), 0)
  state.error = null
  assert.equal(writer.flush(), true)
  assert.equal(real.loadAll().length, 1)
  db.close()
})

test('a folded queue leaves the journal as the operations in order would', () => {
  // Seeded pseudo-random operations over few paths, so they collide often.
  let s = 42
  const rand = (n: number): number => { s = (s * 1103515245 + 12345) % 2 ** 31; return s % n }
  for (let round = 0; round < 200; round++) {
    const plain = fresh()
    const folded = fresh()
    const before: PendingRow[] = rows('a', 0, rand(6), rand(5) + 1).concat(rows('b', 0, rand(6), rand(5) + 1))
    plain.store.upsert(before)
    folded.store.upsert(before)
    const ops: JournalOp[] = []
    let seq = 5
    for (let i = 0; i < 30; i++) {
      const target = rand(2) === 0 ? 'a' : 'b'
      const path = `f${rand(6)}`
      const kind = rand(10)
      if (kind < 5) ops.push({ kind: 'upsert', rows: [{ target, path, seq: seq += rand(2), observedAt: i }] })
      else if (kind < 8) ops.push({ kind: 'remove', target, entries: [{ path, seq: rand(seq + 1) }] })
      else if (kind < 9) ops.push({ kind: 'removeUpTo', target, seq: rand(seq + 1) })
      else ops.push({ kind: 'removeTarget', target })
    }
    const apply = (store: ReturnType<typeof createPendingStore>, list: readonly JournalOp[]): void => {
      for (const op of list) {
        if (op.kind === 'upsert') store.upsert(op.rows)
        else if (op.kind === 'remove') store.remove(op.target, op.entries)
        else if (op.kind === 'removeUpTo') store.removeUpTo(op.target, op.seq)
        else store.removeTarget(op.target)
      }
    }
    apply(plain.store, ops)
    apply(folded.store, compactJournalOps(structuredClone(ops)))
    const view = (store: ReturnType<typeof createPendingStore>) => store.loadAll().map((r) => `${r.target}/${r.path}@${r.seq}`).sort()
    assert.deepEqual(view(folded.store), view(plain.store), `round ${round}: ${JSON.stringify(ops)}`)
    plain.db.close()
    folded.db.close()
  }
})
