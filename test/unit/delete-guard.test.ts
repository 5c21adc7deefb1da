import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deleteLimit, limitMessage } from '../../src/sync/delete-guard.js'
import { parsePreviewLine } from '../../src/sync/mirror-preview.js'
import { parseSkippedDeletes, parseTreeCounts } from '../../src/rsync/output.js'
import { buildFullArgs, buildIncrementalArgs, buildPreviewArgs } from '../../src/rsync/args.js'
import { judgeSource, type RootIdentity } from '../../src/watcher/source-identity.js'

const defaults = { maxFiles: 1_000, maxPercent: 50, minFiles: 10 }

test('the delete limit is the smaller of the count and the share, never below minFiles', () => {
  assert.equal(deleteLimit(defaults, null), 1_000, 'an unknown size: the count alone')
  assert.equal(deleteLimit(defaults, 52), 26)
  assert.equal(deleteLimit(defaults, 4), 10, 'a tree of a few files: minFiles')
  assert.equal(deleteLimit(defaults, 1_000_000), 1_000)
  assert.equal(deleteLimit({ ...defaults, maxFiles: 0 }, 1_000_000), 500_000, 'maxFiles 0: no limit by count')
  assert.equal(deleteLimit({ ...defaults, maxFiles: 0, maxPercent: 100 }, 10), Infinity, 'both off')
})

test('a held run says how many, what share and which settings held it', () => {
  assert.match(limitMessage(30, defaults, 52), /would delete 30 files \(58 % of about 52\).*deletes\.maxFiles 1000, deletes\.maxPercent 50 %.*nothing was deleted/)
})

test("rsync's --max-delete report and its tree counts are read", () => {
  assert.equal(parseSkippedDeletes('Deletions stopped due to --max-delete limit (5 skipped)'), 5)
  assert.equal(parseSkippedDeletes('rsync error: the --max-delete limit stopped deletions (code 25) at main.c(1394)'), null)
  const stats = 'Number of files: 6 (reg: 4, dir: 2)\nNumber of created files: 1 (reg: 1)\nNumber of deleted files: 3 (reg: 2, dir: 1)\n'
  assert.deepEqual(parseTreeCounts(stats), { files: 6, created: 1, deleted: 3 })
  assert.deepEqual(parseTreeCounts(''), { files: null, created: 0, deleted: 0 })
  assert.deepEqual(parseTreeCounts(`${stats}\nNumber of files: 2\nNumber of created files: 0\nNumber of deleted files: 30 (reg: 30)\n`), { files: 6, created: 1, deleted: 33 }, 'both passes count')
})

test('runs count deletions first (--max-delete=0), then delete only (--existing --ignore-existing)', () => {
  const target = { parsed: { kind: 'local' as const, destination: '/mnt/b/', path: '/mnt/b' } }
  const common = { source: '/src', excludes: [], ioTimeoutSec: 30, connectTimeoutSec: 10, extraArgs: [] }
  assert.ok(buildIncrementalArgs(target as never, common, { small: true, maxDelete: 0 }).includes('--max-delete=0'))
  const second = buildFullArgs(target as never, { ...common, compare: 'mtime-ns' }, { maxDelete: 26, deletionsOnly: true })
  assert.ok(['--max-delete=26', '--existing', '--ignore-existing', '--delete'].every((a) => second.includes(a)))
  assert.ok(!buildFullArgs(target as never, { ...common, compare: 'mtime-ns' }).some((a) => a.startsWith('--max-delete')), 'a forced mirror has no limit')
  const preview = buildPreviewArgs(target as never, { ...common, compare: 'mtime-ns' })
  assert.equal(preview[0], '-n')
  assert.deepEqual(preview.slice(-3), ['--out-format=syncplane-item: %i %n', '/src/', '/mnt/b/'])
})

test('preview lines keep names that start with spaces or hold escapes', () => {
  assert.deepEqual(parsePreviewLine('*deleting    lead space.jpg'), { op: 'delete', name: ' lead space.jpg' })
  assert.deepEqual(parsePreviewLine('<f+++++++++ a/new\\#012line'), { op: 'send', name: 'a/new\nline' })
  assert.deepEqual(parsePreviewLine('cd+++++++++ dir/'), { op: 'send', name: 'dir' })
  assert.equal(parsePreviewLine('.d..t...... ./'), null)
  assert.equal(parsePreviewLine('.f...p..... perms-only'), null)
})

test('the source is judged by its directory, its mount and its marker', () => {
  const known: RootIdentity = { dev: 39, ino: 1, mountPoint: true }
  const base = { root: '/srv/up', marker: null, known, hasMarker: true, sameBoot: true }
  assert.equal(judgeSource({ ...base, current: known }), null)
  assert.equal(judgeSource({ ...base, current: null })?.kind, 'missing')
  assert.equal(judgeSource({ ...base, current: { dev: 65024, ino: 9, mountPoint: false } })?.kind, 'unmounted')
  assert.equal(judgeSource({ ...base, current: { dev: 40, ino: 1, mountPoint: true } })?.kind, 'replaced', 'another filesystem mounted there')
  assert.equal(judgeSource({ ...base, sameBoot: false, current: { dev: 40, ino: 1, mountPoint: true } }), null, 'after a restart the device may be renumbered')
  assert.equal(judgeSource({ ...base, marker: '.syncplane-root', hasMarker: false, current: known })?.kind, 'marker-missing')
})
