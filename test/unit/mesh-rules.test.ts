import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bumpVector, compareVectors, isVersionVector, mergeVectors, type VersionVector } from '../../src/mesh/version-vector.js'
import { conflictCopyPath, NAME_MAX_BYTES, wins } from '../../src/mesh/conflict-rule.js'
import { isMeshInternal, meshPathProblem } from '../../src/mesh/mesh-paths.js'
import { createDeleteHold } from '../../src/mesh/delete-hold.js'
import { createHybridClock } from '../../src/mesh/clock.js'
import { deadHere, deadWith, learned, pastOf, survivorOf } from '../../src/mesh/version-row.js'
import { applyOrder } from '../../src/mesh/incoming-entries.js'
import type { MeshFileRow } from '../../src/db/mesh-store.js'

const bytes = (s: string): number => Buffer.byteLength(s)
const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1)
/** Valid UTF-8 that decodes back to itself: no character was cut in half. */
const wholeCharacters = (s: string): boolean => !s.includes('\uFFFD') && Buffer.from(s, 'utf8').toString('utf8') === s

test('version vectors: equal, before, after and concurrent, absent nodes counting as 0', () => {
  assert.equal(compareVectors({}, {}), 'equal')
  assert.equal(compareVectors({ a: 1 }, { a: 1 }), 'equal')
  assert.equal(compareVectors({ a: 1, b: 0 } as never, { a: 1 }), 'equal')
  assert.equal(compareVectors({ a: 1 }, { a: 2 }), 'before')
  assert.equal(compareVectors({ a: 1 }, { a: 1, b: 1 }), 'before')
  assert.equal(compareVectors({}, { a: 1 }), 'before')
  assert.equal(compareVectors({ a: 3, b: 1 }, { a: 2, b: 1 }), 'after')
  assert.equal(compareVectors({ a: 2 }, { b: 1 }), 'concurrent')
  assert.equal(compareVectors({ a: 2, b: 1 }, { a: 1, b: 2 }), 'concurrent')
  // Antisymmetric for every pair.
  const vs: VersionVector[] = [{}, { a: 1 }, { a: 2 }, { b: 1 }, { a: 1, b: 1 }, { a: 2, c: 5 }]
  const mirror = { equal: 'equal', before: 'after', after: 'before', concurrent: 'concurrent' } as const
  for (const x of vs) for (const y of vs) assert.equal(compareVectors(y, x), mirror[compareVectors(x, y)], `${JSON.stringify(x)} vs ${JSON.stringify(y)}`)
})

test('version vectors: merge takes the larger counter per node, in key order, and dominates both', () => {
  const a = { n2: 4, n0: 1 }
  const b = { n1: 7, n0: 3 }
  const m = mergeVectors(a, b)
  assert.deepEqual(m, { n0: 3, n1: 7, n2: 4 })
  assert.deepEqual(Object.keys(m), ['n0', 'n1', 'n2'])
  assert.equal(JSON.stringify(mergeVectors(a, b)), JSON.stringify(mergeVectors(b, a)), 'commutative, serialised alike')
  assert.ok(['after', 'equal'].includes(compareVectors(m, a)))
  assert.ok(['after', 'equal'].includes(compareVectors(m, b)))
  assert.deepEqual(mergeVectors(m, m), m, 'idempotent')
  assert.deepEqual(a, { n2: 4, n0: 1 }, 'inputs untouched')
})

test('version vectors: a bump raises only the own counter, is later than its base, and sorts keys', () => {
  const base = Object.freeze({ z: 2, a: 5 })
  const bumped = bumpVector(base, 'm')
  assert.deepEqual(bumped, { a: 5, m: 1, z: 2 })
  assert.deepEqual(Object.keys(bumped), ['a', 'm', 'z'])
  assert.equal(compareVectors(bumped, base), 'after')
  assert.deepEqual(bumpVector(bumped, 'a'), { a: 6, m: 1, z: 2 })
  // Two nodes bumping the same base are concurrent; merging then bumping dominates both.
  const x = bumpVector(base, 'x')
  const y = bumpVector(base, 'y')
  assert.equal(compareVectors(x, y), 'concurrent')
  const z = bumpVector(mergeVectors(x, y), 'x')
  assert.equal(compareVectors(z, x), 'after')
  assert.equal(compareVectors(z, y), 'after')
})

test('version vectors: only node names mapped to positive safe integers pass from a peer', () => {
  assert.ok(isVersionVector({}))
  assert.ok(isVersionVector({ n0: 1, n1: Number.MAX_SAFE_INTEGER }))
  for (const bad of [null, [], 'x', 3, { n0: 0 }, { n0: -1 }, { n0: 1.5 }, { n0: '1' }, { '': 1 }, { ['x'.repeat(65)]: 1 }, { n0: Number.MAX_SAFE_INTEGER + 2 }]) {
    assert.equal(isVersionVector(bad), false, JSON.stringify(bad))
  }
})

test('conflict rule: of two versions exactly one wins, the later clock first, then the larger node name', () => {
  const a = { hlc: 1000, origin: 'n0' }
  const b = { hlc: 1001, origin: 'n0' }
  const c = { hlc: 1000, origin: 'n1' }
  assert.ok(wins(b, a) && !wins(a, b))
  assert.ok(wins(c, a) && !wins(a, c), 'same clock: the larger node name')
  assert.ok(wins(b, c) && !wins(c, b))
  const stamps = [a, b, c, { hlc: 999, origin: 'web-9' }, { hlc: 1001, origin: 'web-1' }]
  for (const x of stamps) {
    for (const y of stamps) if (x !== y) assert.notEqual(wins(x, y), wins(y, x), `${JSON.stringify(x)} / ${JSON.stringify(y)}`)
  }
})

test('conflict copies: named from the losing version alone, the same on every call, beside the original', () => {
  const loser = { hlc: Date.UTC(2026, 11, 2, 8, 45, 12, 123), origin: 'web-2' }
  const copy = conflictCopyPath('up/2026/report.final.pdf', loser)
  assert.equal(copy, 'up/2026/report.final.sync-conflict-20261202-084512-123-web-2.pdf')
  assert.equal(conflictCopyPath('up/2026/report.final.pdf', { ...loser }), copy, 'same on every call')
  assert.equal(conflictCopyPath('noext', loser), 'noext.sync-conflict-20261202-084512-123-web-2')
  assert.equal(conflictCopyPath('.hidden', loser), '.hidden.sync-conflict-20261202-084512-123-web-2', 'a dot file has no extension')
  assert.notEqual(conflictCopyPath('a.pdf', { ...loser, origin: 'web-3' }), conflictCopyPath('a.pdf', loser))
  assert.notEqual(conflictCopyPath('a.pdf', { ...loser, hlc: loser.hlc + 1 }), conflictCopyPath('a.pdf', loser), 'millisecond stamps')
  assert.equal(meshPathProblem(copy), null, 'a copy is a path a peer may name')
})

test('conflict copies: a 255-byte name, multi-byte UTF-8 included, gives a copy of at most 255 bytes, cut on a character', () => {
  const longest = 'n'.repeat(64)
  const names = [
    'a'.repeat(255),
    'é'.repeat(125) + 'a.pdf', // 2-byte characters and an extension
    '日'.repeat(85), // 3-byte characters, no extension
    '😀'.repeat(63) + 'abc', // 4-byte characters
    '😀'.repeat(59) + '.日本語日本語', // a multi-byte extension
    'x'.repeat(200) + '.' + 'y'.repeat(54), // an extension too long to keep as one
    'a'.repeat(251) + '.tar', // nearly all stem
  ]
  for (const name of names) {
    assert.equal(bytes(name), 255, `test name is 255 bytes: ${name.slice(0, 20)}…`)
    for (const origin of ['n0', longest]) {
      for (const dir of ['', 'deep/ér/']) {
        const stamp = { hlc: Date.UTC(2026, 0, 1), origin }
        const copy = conflictCopyPath(dir + name, stamp)
        assert.ok(copy.startsWith(dir), 'same directory')
        const base = baseOf(copy)
        assert.ok(bytes(base) <= NAME_MAX_BYTES, `${bytes(base)} bytes: ${base}`)
        assert.ok(wholeCharacters(base), `no character cut: ${base}`)
        assert.ok(base.includes(`.sync-conflict-20260101-000000-000-${origin}`))
        assert.equal(conflictCopyPath(dir + name, stamp), copy, 'deterministic')
        assert.equal(meshPathProblem(copy), null)
        assert.notEqual(copy, dir + name)
      }
    }
  }
  // Two long names that differ only past the cut still get different copies.
  const a = 'é'.repeat(127) + 'a'
  const b = 'é'.repeat(127) + 'b'
  const stamp = { hlc: 0, origin: 'n0' }
  assert.notEqual(conflictCopyPath(a, stamp), conflictCopyPath(b, stamp))
})

test('conflict copies: a copy of a copy keeps both marks, differs from the first, and still fits', () => {
  const first = conflictCopyPath('docs/plan.odt', { hlc: Date.UTC(2026, 5, 1, 10), origin: 'n1' })
  const second = conflictCopyPath(first, { hlc: Date.UTC(2026, 5, 1, 11), origin: 'n2' })
  assert.equal(second, 'docs/plan.sync-conflict-20260601-100000-000-n1.sync-conflict-20260601-110000-000-n2.odt')
  assert.notEqual(second, first)
  assert.equal(conflictCopyPath(first, { hlc: Date.UTC(2026, 5, 1, 11), origin: 'n2' }), second, 'deterministic')
  // Copies of copies of a 255-byte multi-byte name, many levels down.
  let p = 'dir/' + 'ü'.repeat(124) + 'xy.jpeg'
  assert.equal(bytes(baseOf(p)), 255)
  const seen = new Set([p])
  for (let level = 0; level < 6; level++) {
    p = conflictCopyPath(p, { hlc: Date.UTC(2026, 0, 1) + level, origin: `node-${level}` })
    assert.ok(bytes(baseOf(p)) <= NAME_MAX_BYTES, `level ${level}: ${bytes(baseOf(p))} bytes`)
    assert.ok(wholeCharacters(p))
    assert.ok(p.endsWith('.jpeg'), 'the extension stays last')
    assert.ok(!seen.has(p), `level ${level} is a new name`)
    seen.add(p)
  }
})

test('mesh paths: only relative paths inside the tree and outside .syncplane/ pass', () => {
  for (const ok of ['a', 'a/b/c.txt', '.hidden', 'x/.syncplane', 'x/.syncplane/y', '.syncplane-root', '..a', 'a..', 'ü/日本', 'with space', 'a'.repeat(255)]) {
    assert.equal(meshPathProblem(ok), null, ok)
  }
  const refused: Array<[string, RegExp]> = [
    ['', /empty/],
    ['..', /"\.\."/],
    ['../x', /"\.\."/],
    ['a/../../b', /"\.\."/],
    ['a/..', /"\.\."/],
    ['./a', /"\."/],
    ['a/./b', /"\."/],
    ['/abs', /absolute/],
    ['/etc/passwd', /absolute/],
    ['a//b', /empty/],
    ['a/', /empty/],
    ['a\0b', /NUL/],
    ['\0', /NUL/],
    ['.syncplane', /\.syncplane/],
    ['.syncplane/x', /\.syncplane/],
    ['.syncplane/staging/n1/b/f', /\.syncplane/],
    ['a'.repeat(256), /255 bytes/],
    ['d/' + 'é'.repeat(128), /255 bytes/],
    [('d'.repeat(200) + '/').repeat(21), /4096 bytes/],
  ]
  for (const [p, why] of refused) {
    const problem = meshPathProblem(p)
    assert.ok(problem !== null, `${JSON.stringify(p.slice(0, 40))} refused`)
    assert.match(problem, why, JSON.stringify(p.slice(0, 40)))
  }
  assert.ok(isMeshInternal('.syncplane') && isMeshInternal('.syncplane/hold/x'))
  assert.ok(!isMeshInternal('.syncplane-root') && !isMeshInternal('a/.syncplane') && !isMeshInternal('.syncplanex/y'))
})

test('mesh delete hold: more than maxFiles, or more than maxPercent of the tree above minFiles, is held', () => {
  let files = 100
  const hold = (deletes: { maxFiles: number, maxPercent: number, minFiles: number }) => createDeleteHold({ deletes, files: () => files, now: () => 0 })
  const byCount = hold({ maxFiles: 20, maxPercent: 100, minFiles: 0 })
  assert.equal(byCount.mayDelete(20, false), true)
  assert.equal(byCount.mayDelete(21, false), false)
  const noLimit = hold({ maxFiles: 0, maxPercent: 100, minFiles: 0 })
  assert.equal(noLimit.mayDelete(1_000_000, false), true, 'maxFiles 0 and maxPercent 100: no limit')
  const byShare = hold({ maxFiles: 0, maxPercent: 50, minFiles: 10 })
  assert.equal(byShare.mayDelete(50, false), true)
  assert.equal(byShare.mayDelete(51, false), false)
  files = 12
  assert.equal(byShare.mayDelete(10, false), true, 'at most minFiles: never held by the share')
  assert.equal(byShare.mayDelete(11, false), false)
  // The same limits as the one-way targets' guard.
  files = 52
  const same = hold({ maxFiles: 1_000, maxPercent: 50, minFiles: 10 })
  assert.equal(same.mayDelete(26, false), true)
  assert.equal(same.mayDelete(27, false), false)
})

test('mesh delete hold: held until confirmed with the count held, then that count passes once, in a read of the whole tree', () => {
  let clock = Date.UTC(2026, 0, 1)
  const hold = createDeleteHold({ deletes: { maxFiles: 5, maxPercent: 100, minFiles: 0 }, files: () => 100, now: () => clock })
  assert.equal(hold.current(), null)
  assert.equal(hold.confirm(8), 'none', 'nothing held yet')
  assert.equal(hold.mayDelete(8, true), false)
  hold.seen(8, 'whole')
  assert.deepEqual(hold.current(), { count: 8, since: '2026-01-01T00:00:00.000Z' })
  clock += 60_000
  hold.seen(9, 'whole')
  assert.deepEqual(hold.current(), { count: 9, since: '2026-01-01T00:00:00.000Z' }, 'a growing hold keeps its start')
  assert.equal(hold.confirm(8), 'changed')
  assert.equal(hold.mayDelete(9, true), false, 'a refused confirmation lets nothing through')
  assert.equal(hold.confirm(9), 'confirmed')
  assert.equal(hold.current(), null)
  assert.equal(hold.mayDelete(1, false), true, 'a deletion the watcher reported meanwhile passes by the limits,')
  assert.equal(hold.mayDelete(9, true), true, 'and leaves the confirmation to the read of the whole tree it was for')
  assert.equal(hold.mayDelete(9, true), false, 'once')
  hold.seen(7, 'whole')
  hold.seen(0, 'whole')
  assert.equal(hold.current(), null, 'nothing held any more: the hold clears')
})

test('mesh delete hold: while deletions are held, a later small batch of them is held too (a burst split by the watcher)', () => {
  const hold = createDeleteHold({ deletes: { maxFiles: 20, maxPercent: 100, minFiles: 0 }, files: () => 100, now: () => 0 })
  assert.equal(hold.mayDelete(3, false), true, 'nothing held: a few deletions pass')
  assert.equal(hold.mayDelete(50, true), false)
  hold.seen(50, 'whole')
  assert.equal(hold.mayDelete(3, false), false, 'the tail of the burst waits with the rest')
  hold.seen(53, 'whole')
  assert.equal(hold.confirm(53), 'confirmed')
  assert.equal(hold.mayDelete(53, true), true)
  assert.equal(hold.mayDelete(3, false), true, 'after the confirmation: the limits as before')
})

test('mesh delete hold: deletions a scan of a few paths held are held from then on, counted whole by the read of the whole tree', () => {
  const hold = createDeleteHold({ deletes: { maxFiles: 20, maxPercent: 100, minFiles: 0 }, files: () => 100, now: () => 0 })
  hold.seen(40, 'partial')
  assert.equal(hold.current()?.count, 40, 'held at once, before the read of the whole tree ends')
  assert.equal(hold.mayDelete(3, false), false, 'the tail of the burst waits with them')
  hold.seen(45, 'whole')
  assert.equal(hold.current()?.count, 45, 'the whole read\'s count')
  hold.seen(5, 'partial')
  assert.equal(hold.current()?.count, 45, 'a scan of a few paths does not lower it')
})

test('mesh delete hold: a read of the whole tree that began before the hold or a confirmation may set the hold, never clear it nor take up the confirmation', () => {
  const hold = createDeleteHold({ deletes: { maxFiles: 20, maxPercent: 100, minFiles: 0 }, files: () => 100, now: () => 0 })
  hold.seen(40, 'partial')
  hold.seen(0, 'stale')
  assert.equal(hold.current()?.count, 40, 'it may have passed where they are')
  hold.seen(45, 'stale')
  assert.equal(hold.current()?.count, 45)
  assert.equal(hold.confirm(45), 'confirmed')
  assert.equal(hold.mayDelete(45, false), false, 'a stale read weighs its deletions as a few paths\' (by the limits)')
  hold.seen(45, 'stale')
  assert.equal(hold.current(), null, 'the confirmation waits for a read that began after it')
  assert.equal(hold.mayDelete(45, true), true)
})

test('mesh delete hold: a read of the whole tree that finds nothing to delete ends a confirmation', () => {
  const hold = createDeleteHold({ deletes: { maxFiles: 20, maxPercent: 100, minFiles: 0 }, files: () => 100, now: () => 0 })
  hold.seen(45, 'whole')
  assert.equal(hold.confirm(45), 'confirmed')
  hold.seen(0, 'whole')
  assert.equal(hold.mayDelete(45, true), false, 'a later mass deletion is held again')
})

test('hybrid clock: strictly increasing, never behind the wall clock nor behind what it observed', () => {
  let wall = 1_000
  const clock = createHybridClock(() => wall, 0)
  assert.equal(clock.tick(), 1_000)
  assert.equal(clock.tick(), 1_001, 'same millisecond: still later')
  assert.equal(clock.tick(), 1_002)
  wall = 500
  assert.equal(clock.tick(), 1_003, 'the wall clock went back: the clock does not')
  clock.observe(5_000)
  assert.equal(clock.tick(), 5_001, 'a peer ahead: later than its version')
  clock.observe(10)
  assert.equal(clock.tick(), 5_002, 'an older stamp changes nothing')
  wall = 9_000
  assert.equal(clock.tick(), 9_000, 'the wall clock caught up')
  const restarted = createHybridClock(() => 100, 9_000)
  assert.equal(restarted.tick(), 9_001, 'started from the largest stamp stored: later than everything before a restart')
  let prev = -1
  const busy = createHybridClock(() => 42, 0)
  for (let i = 0; i < 1_000; i++) {
    const t = busy.tick()
    assert.ok(t > prev)
    prev = t
  }
})

const held = (over: Partial<MeshFileRow>): MeshFileRow => ({
  path: 'f', kind: 'file', deleted: false, vv: '{}', seen: null, dead: null, hlc: 1, origin: 'n0', size: 1, mtimeNs: '1', ino: '1', copyOf: null, ...over,
})
const copy = (name: string, vv: VersionVector, hlc: number, origin: string): MeshFileRow =>
  held({ path: name, vv: JSON.stringify(vv), hlc, origin, copyOf: JSON.stringify({ path: 'f', winner: 'n1' }) })

test('a deletion of a conflict\'s winner: of the versions the winner beat, the latest the deletion had not seen survives, the conflict rule deciding between concurrent ones', () => {
  // W {n1:2} beat A {n0:2} and B {n2:2} here; A', a copy of a later version of A, lost too.
  const winner = held({ vv: JSON.stringify({ n1: 2 }), seen: JSON.stringify({ n0: 3, n1: 2, n2: 2 }) })
  const a = copy('a', { n0: 2 }, 10, 'n0')
  const aLater = copy('a2', { n0: 3 }, 12, 'n0')
  const b = copy('b', { n2: 2 }, 11, 'n2')
  const deletion = (vv: VersionVector, seen?: VersionVector) => ({ path: 'f', kind: 'file' as const, deleted: true, vv, hlc: 20, origin: 'n1', ...(seen === undefined ? {} : { seen }) })
  assert.equal(survivorOf(deletion({ n1: 3 }), winner, [a, b])?.path, 'b', 'both unseen: the later clock wins')
  assert.equal(survivorOf(deletion({ n1: 3 }), winner, [a, aLater, b])?.path, 'a2', 'of two lost versions of A only the later counts, then the clock decides')
  assert.equal(survivorOf(deletion({ n1: 3, n2: 2 }), winner, [aLater, b])?.path, 'a2', 'B had been seen by the deletion')
  assert.equal(survivorOf(deletion({ n1: 3, n2: 2 }), winner, [a, b]), undefined, 'A was overwritten by its own node since (A\' is seen here), whatever else it lost to')
  assert.equal(survivorOf(deletion({ n1: 3 }, { n0: 2, n2: 2 }), winner, [a, b]), undefined, 'what the deletion had seen counts, its own vector or not')
  assert.equal(survivorOf(deletion({ n1: 3 }), winner, [copy('c', { n0: 9 }, 30, 'n0')]), undefined, 'a copy written since it lost is not what lost here')
  assert.equal(survivorOf(deletion({ n1: 3 }), winner, [{ ...a, deleted: true }]), undefined, 'a deleted copy')
})

test('a deletion of a conflict\'s winner: a lost version its own node has since deleted, known here only as part of what the winner saw, stays out', () => {
  // W {n0:1} beat B {n1:1} here; n1 then deleted B (T {n1:2}), which met W as an update against a delete.
  const winner = held({ vv: JSON.stringify({ n0: 1 }), seen: JSON.stringify({ n0: 1, n1: 2 }) })
  const b = copy('b', { n1: 1 }, 11, 'n1')
  const deletion = { path: 'f', kind: 'file' as const, deleted: true, vv: { n0: 2 }, hlc: 20, origin: 'n0' }
  assert.equal(survivorOf(deletion, winner, [b]), undefined)
  const notDeleted = held({ vv: JSON.stringify({ n0: 1 }), seen: JSON.stringify({ n0: 1, n1: 1 }) })
  assert.equal(survivorOf(deletion, notDeleted, [b])?.path, 'b', 'not deleted by its node: it comes back')
})

test('a deletion of a conflict\'s winner: a lost version another node had overwritten or deleted (its dead vector covers it, here or in the deletion) stays out', () => {
  // W {n2:5} beat L {n0:3} here; n1 deleted L (T {n0:3, n1:4}), known here only as part of what W had seen.
  const winner = held({ vv: JSON.stringify({ n2: 5 }), seen: JSON.stringify({ n0: 3, n1: 4, n2: 5 }) })
  const l = copy('l', { n0: 3 }, 10, 'n0')
  const deletion = (dead?: VersionVector) => ({ path: 'f', kind: 'file' as const, deleted: true, vv: { n2: 6 }, hlc: 20, origin: 'n2', ...(dead === undefined ? {} : { dead }) })
  assert.equal(survivorOf(deletion(), winner, [l])?.path, 'l', 'nothing says L was deleted: it comes back')
  assert.equal(survivorOf(deletion(), { ...winner, dead: JSON.stringify({ n0: 3 }) }, [l]), undefined, 'known dead here')
  assert.equal(survivorOf(deletion({ n0: 3 }), winner, [l]), undefined, 'known dead to the deleting node')
  assert.equal(survivorOf(deletion({ n0: 2 }), winner, [l])?.path, 'l', 'an earlier version of n0 dead, not L')
})

test('what a version takes over: a deletion all it had seen, a version what other nodes had written before it', () => {
  assert.deepEqual(pastOf({ vv: { n0: 3, n1: 4 }, deleted: true, origin: 'n1' }), { n0: 3, n1: 4 })
  assert.deepEqual(pastOf({ vv: { n0: 3, n1: 4 }, deleted: false, origin: 'n1' }), { n0: 3 })
  const row = held({ dead: JSON.stringify({ n2: 7 }) })
  assert.deepEqual(deadWith(row, { path: 'f', kind: 'file', deleted: false, vv: { n0: 3, n1: 4 }, hlc: 1, origin: 'n1', dead: { n3: 1 } }), { n0: 3, n2: 7, n3: 1 })
  assert.deepEqual(deadWith(undefined, { path: 'f', kind: 'file', deleted: false, vv: { n1: 4 }, hlc: 1, origin: 'n1' }), {})
})

test('old news of another version teaches what its sender knew dead: each node\'s versions before the latest of its own', () => {
  // Seed 2800770: E {n1:8} held here; n0 deleted its D {n0:4} at {n0:7}, then took A {n1:5} (which had not seen the
  // deletion), and sent A: old news here, its sender having seen {n0:7, n1:5}.
  const e = held({ vv: JSON.stringify({ n1: 8 }), origin: 'n1' })
  const a = { path: 'f', kind: 'file' as const, deleted: false, vv: { n1: 5 }, seen: { n0: 7, n1: 5 }, hlc: 5, origin: 'n1' }
  const after = learned(e, a)
  assert.deepEqual(JSON.parse(after?.dead ?? '{}'), { n0: 6, n1: 4 })
  assert.equal(after?.seen, null, 'what is seen here stays: a later deletion of E must still be news when it comes')
  const d = { path: 'f', kind: 'dir' as const, deleted: false, vv: { n0: 4 }, hlc: 4, origin: 'n0' }
  assert.equal(deadHere(d, after!), true, 'D, from a peer that still holds it, stays out')
  assert.equal(deadHere({ ...d, vv: { n0: 7 } }, after!), false, 'n0\'s latest, as its sender knew, is not dead')
  assert.equal(learned(after!, a), undefined, 'nothing new the second time')
})

test('a batch is applied directories first, then conflict copies, then files, then deletions innermost first', () => {
  const at = (path: string, over: object = {}) => ({ path, kind: 'file' as const, deleted: false, vv: { n0: 1 }, hlc: 1, origin: 'n0', ...over })
  const entries = [
    at('a/gone', { deleted: true }),
    at('a', { deleted: true, kind: 'dir' as const }),
    at('f'),
    at('f.sync-conflict-x', { copyOf: { path: 'f', winner: 'n1' } }),
    at('d/e', { kind: 'dir' as const }),
    at('d', { kind: 'dir' as const }),
  ]
  assert.deepEqual(applyOrder(entries).map((i) => entries[i]!.path), ['d', 'd/e', 'f.sync-conflict-x', 'f', 'a/gone', 'a'])
})
