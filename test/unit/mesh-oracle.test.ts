import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createOpLog, type Op, type OpLog } from '../helpers/mesh-op-log.js'
import { judge, type FinalFile, type FinalTree } from '../helpers/mesh-verdict.js'

// The mesh churn test's oracle, checked from both sides on hand-made op logs:
// it must flag what is wrong and nothing that is not.

type Made = { hash: string, uid: string | null, parent: string | null }

function op (log: OpLog, node: string, kind: Op['kind'], t: number, fields: Partial<Op>, made: Made[] = []): Op {
  return log.add({ node, kind, t0: t, t1: t + 1, path: '', writes: [], removes: [], consumed: [], ...fields }, made)
}
const file = (hash: string, uid: string | null = null): FinalFile => ({ hash, uid, size: 1 })
const trees = (...perNode: Array<Record<string, FinalFile | null>>): Map<string, FinalTree> =>
  new Map(perNode.map((t, i) => [`n${i}`, new Map(Object.entries(t))]))

test('an upload no op removed and found nowhere is lost; one removed, moved or kept as a copy is not', () => {
  const log = createOpLog()
  op(log, 'n0', 'create', 1, { path: 'a', writes: [{ path: 'a', hash: 'A' }] }, [{ hash: 'A', uid: 'u1', parent: null }])
  op(log, 'n1', 'create', 2, { path: 'b', writes: [{ path: 'b', hash: 'B' }] }, [{ hash: 'B', uid: 'u2', parent: null }])
  op(log, 'n2', 'delete', 3, { path: 'b', removes: [{ path: 'b', hash: 'B' }], consumed: ['B'] })
  op(log, 'n0', 'create', 4, { path: 'c', writes: [{ path: 'c', hash: 'C' }] }, [{ hash: 'C', uid: 'u3', parent: null }])
  op(log, 'n1', 'rename-file', 5, { path: 'c', writes: [{ path: 'd', hash: 'C' }], removes: [{ path: 'c', hash: 'C' }] })
  op(log, 'n2', 'create', 6, { path: 'e', writes: [{ path: 'e', hash: 'E' }] }, [{ hash: 'E', uid: 'u4', parent: null }])
  const end = { d: file('C', 'u3'), 'e.sync-conflict-20261202-000000-000-n2': file('E', 'u4') }
  const v = judge(log, trees(end, end, end))
  assert.equal(v.lost.length, 1)
  assert.match(v.lost[0]!, /^uid=u1:/)
  assert.deepEqual(v.resurrected, { onDeleter: [], notPropagated: [] })
  assert.deepEqual(v.unknown, [])
})

test('a version of an upload lost while another version of it survives is a lost version, not a lost upload', () => {
  const log = createOpLog()
  op(log, 'n0', 'create', 1, { path: 'a', writes: [{ path: 'a', hash: 'A' }] }, [{ hash: 'A', uid: 'u', parent: null }])
  op(log, 'n0', 'append', 2, { path: 'a', writes: [{ path: 'a', hash: 'A1' }], consumed: ['A'] }, [{ hash: 'A1', uid: 'u', parent: 'A' }])
  op(log, 'n1', 'append', 2, { path: 'a', writes: [{ path: 'a', hash: 'A2' }], consumed: ['A'] }, [{ hash: 'A2', uid: 'u', parent: 'A' }])
  const end = { a: file('A1', 'u') }
  const v = judge(log, trees(end, end))
  assert.deepEqual(v.lost, [])
  assert.equal(v.lostVersions.length, 1)
  assert.match(v.lostVersions[0]!, /^A2 uid=u/)
})

test('a removal that had seen every version written at its path must stick; one that had not is not judged', () => {
  const log = createOpLog()
  // p: written on n0, appended on n2 (seen by n1's delete, whose bytes descend from it): must stay deleted.
  op(log, 'n0', 'create', 1, { path: 'p', writes: [{ path: 'p', hash: 'P' }] }, [{ hash: 'P', uid: 'u', parent: null }])
  op(log, 'n2', 'append', 2, { path: 'p', writes: [{ path: 'p', hash: 'P1' }], consumed: ['P'] }, [{ hash: 'P1', uid: 'u', parent: 'P' }])
  op(log, 'n1', 'delete', 5, { path: 'p', removes: [{ path: 'p', hash: 'P1' }], consumed: ['P1'] })
  // q: overwritten on n2, then deleted on n1 having only the first version: the delete had not seen the overwrite.
  op(log, 'n0', 'create', 1, { path: 'q', writes: [{ path: 'q', hash: 'Q' }] }, [{ hash: 'Q', uid: 'v', parent: null }])
  op(log, 'n2', 'overwrite', 4, { path: 'q', writes: [{ path: 'q', hash: 'Q1' }], consumed: ['Q'] }, [{ hash: 'Q1', uid: 'w', parent: 'Q' }])
  op(log, 'n1', 'delete', 5, { path: 'q', removes: [{ path: 'q', hash: 'Q' }], consumed: ['Q'] })
  // r: renamed away on n0 (a removal at r), back on n1 only.
  op(log, 'n0', 'create', 1, { path: 'r', writes: [{ path: 'r', hash: 'R' }] }, [{ hash: 'R', uid: 'x', parent: null }])
  op(log, 'n0', 'rename-file', 6, { path: 'r', writes: [{ path: 's', hash: 'R' }], removes: [{ path: 'r', hash: 'R' }] })
  const v = judge(log, trees({ q: file('Q1', 'w'), s: file('R', 'x') }, { p: file('P1', 'u'), q: file('Q1', 'w'), r: file('R', 'x'), s: file('R', 'x') }, { q: file('Q1', 'w'), s: file('R', 'x') }))
  assert.equal(v.resurrected.onDeleter.length, 1)
  assert.match(v.resurrected.onDeleter[0]!, /^"p" removed by #2 n1 delete/)
  assert.equal(v.resurrected.notPropagated.length, 1)
  assert.match(v.resurrected.notPropagated[0]!, /^"r" removed by #7 n0 rename-file/)
  assert.deepEqual(v.lost, [])
})

test('a forced conflict needs one winner and one copy of the other, named for its writer, on every node', () => {
  const setUp = (): OpLog => {
    const log = createOpLog()
    log.forced.push({ index: 0, path: 'c/report 0.pdf', nodes: ['n0', 'n1'], delayMs: 10 })
    op(log, 'n0', 'forced', 1, { path: 'c/report 0.pdf', writes: [{ path: 'c/report 0.pdf', hash: 'X' }], forced: 0 }, [{ hash: 'X', uid: 'x', parent: null }])
    op(log, 'n1', 'forced', 2, { path: 'c/report 0.pdf', writes: [{ path: 'c/report 0.pdf', hash: 'Y' }], forced: 0 }, [{ hash: 'Y', uid: 'y', parent: null }])
    return log
  }
  const good = { c: null, 'c/report 0.pdf': file('Y', 'y'), 'c/report 0.sync-conflict-20261202-084512-123-n0.pdf': file('X', 'x') }
  const ok = judge(setUp(), trees(good, good, good))
  assert.deepEqual(ok.conflicts, { concurrent: 1, ok: 1, sequential: 0, bad: [] })
  assert.equal(ok.laterWon, 1)

  const missing = { c: null, 'c/report 0.pdf': file('Y', 'y') }
  const v1 = judge(setUp(), trees(good, missing, good))
  assert.equal(v1.conflicts.bad.length, 1)
  assert.match(v1.conflicts.bad[0]!, /n1: 0 conflict copies/)
  assert.equal(v1.lostVersions.length, 0, 'X is still on n0 and n2')

  const misnamed = { c: null, 'c/report 0.pdf': file('Y', 'y'), 'c/report 0.sync-conflict-20261202-084512-123-n1.pdf': file('X', 'x') }
  assert.match(judge(setUp(), trees(misnamed)).conflicts.bad[0]!, /names n1, the loser was written on n0/)

  const twice = { ...good, 'c/report 0.sync-conflict-20261202-084513-000-n0.pdf': file('X', 'x') }
  assert.match(judge(setUp(), trees(twice)).conflicts.bad[0]!, /2 conflict copies/)
})

test('a file whose bytes no op wrote is reported', () => {
  const log = createOpLog()
  op(log, 'n0', 'create', 1, { path: 'a', writes: [{ path: 'a', hash: 'A' }] }, [{ hash: 'A', uid: 'u', parent: null }])
  const v = judge(log, trees({ a: file('A', 'u'), b: file('TORN', 'u') }))
  assert.equal(v.unknown.length, 1)
  assert.match(v.unknown[0]!, /^n0:"b"/)
})
