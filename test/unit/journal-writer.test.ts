import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createPendingStore } from '../../src/db/pending-store.js'
import { createJournalWriter } from '../../src/sync/journal-writer.js'

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
