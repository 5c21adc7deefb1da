import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { countWatches, judgeWatchLimit, readWatchLimit } from '../../src/check/watch-limit.js'
import { parentListingUrl } from '../../src/check/daemon-probe.js'
import { exitCodeOf, forPreStart, result, type CheckResult } from '../../src/check/result.js'
import { buildProbeArgs, buildSshCommand, sshWords } from '../../src/rsync/args.js'
import { parseTargetUrl } from '../../src/config/target-url.js'
import { checkDatabase } from '../../src/check/database.js'
import { openDatabase } from '../../src/db/open.js'
import { listMigrations, migrate } from '../../src/db/migrate.js'

const source = '/srv/uploads'
const parcel = (watched: number, limit: number | string, unreadable = 0, partial = false) =>
  judgeWatchLimit({ source, backend: 'parcel', usePolling: false, limit, count: { watched, unreadable, partial } })

test('a tree with more directories than the inotify limit fails, and the detail says how to raise it', () => {
  const r = parcel(8_193, 8_192)
  assert.equal(r.status, 'FAIL')
  assert.match(r.detail, /more than 8192 directories/)
  assert.match(r.detail, /sysctl -w fs\.inotify\.max_user_watches=1048576/)
})

test('a tree within 80 % of the limit is OK; above it a warning, since every process of the user shares the limit', () => {
  assert.equal(parcel(800, 1_000).status, 'OK')
  const tight = parcel(801, 1_000)
  assert.equal(tight.status, 'WARN')
  assert.match(tight.detail, /little room left/)
  assert.equal(parcel(1_000, 1_000).status, 'WARN', 'exactly at the limit still fits')
})

test('the suggested limit is at least four times the count', () => {
  assert.match(parcel(600_000, 500_000).detail, /max_user_watches=4194304/)
})

test('polling needs no watches, and an unknown limit only warns', () => {
  assert.equal(judgeWatchLimit({ source, backend: 'chokidar', usePolling: true, limit: 0 }).status, 'OK')
  const unknown = parcel(10, 'cannot read /proc/sys/fs/inotify/max_user_watches: ENOENT')
  assert.equal(unknown.status, 'WARN')
  assert.match(unknown.detail, /ENOENT/)
})

test('directories that could not be read make the count a warning', () => {
  const r = parcel(10, 1_000, 2)
  assert.equal(r.status, 'WARN')
  assert.match(r.detail, /2 directories could not be read/)
})

test('the count of watches takes directories for parcel, files too for chokidar, and stops past the limit', (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'syncplane-watches-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  for (let i = 0; i < 20; i++) mkdirSync(path.join(root, `d${i}`, 'sub'), { recursive: true })
  writeFileSync(path.join(root, 'd0', 'file'), '')
  assert.deepEqual(countWatches(root, { files: false, stopAfter: 1_000 }), { watched: 41, unreadable: 0, partial: false })
  assert.equal(countWatches(root, { files: true, stopAfter: 1_000 }).watched, 42)
  const stopped = countWatches(root, { files: false, stopAfter: 5 })
  assert.equal(stopped.watched, 6, 'one past the limit is enough to know')
  let clock = 0
  const slow = countWatches(root, { files: false, stopAfter: 1_000, budgetMs: 10, now: () => (clock += 3) })
  assert.deepEqual([slow.watched, slow.partial], [3, true], 'out of time, the walk stops with what it counted')
})

test('a walk that ran out of time warns, unless what it counted is already too many', () => {
  const partial = parcel(100, 1_000, 0, true)
  assert.equal(partial.status, 'WARN')
  assert.match(partial.detail, /^at least 100 directories.*counting stopped after 10 s/)
  assert.equal(parcel(1_001, 1_000, 0, true).status, 'FAIL')
})

test('the watch limit is read as a number, and a file that is not one is said so', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncplane-limit-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(path.join(dir, 'ok'), '8192\n')
  writeFileSync(path.join(dir, 'bad'), 'lots\n')
  assert.equal(readWatchLimit(path.join(dir, 'ok')), 8192)
  assert.match(String(readWatchLimit(path.join(dir, 'bad'))), /does not hold a number/)
  assert.match(String(readWatchLimit(path.join(dir, 'missing'))), /cannot read .*ENOENT/)
})

test('a daemon is probed in the directory its destination is made in', () => {
  assert.equal(parentListingUrl('rsync://u@h:873/mod/'), 'rsync://u@h:873/mod/')
  assert.equal(parentListingUrl('rsync://u@h/mod/a/b/'), 'rsync://u@h/mod/a/')
  assert.equal(parentListingUrl('rsync://[::1]:873/mod/a/'), 'rsync://[::1]:873/mod/')
  assert.equal(parentListingUrl('u@h::mod/'), 'u@h::mod/')
  assert.equal(parentListingUrl('h::mod/a/b/'), 'h::mod/a/')
  assert.equal(parentListingUrl('rsync://h/mod/mod/'), 'rsync://h/mod/', 'a directory named like its module is still below it')
})

test('the daemon probe lists without recursing, with the connect and I/O timeouts and the operator\'s extra arguments', () => {
  const args = buildProbeArgs({ parsed: parseTargetUrl('rsync://u@h/mod/') }, { source: '', excludes: [], ioTimeoutSec: 5, connectTimeoutSec: 5, extraArgs: ['--port=8730'] }, 'rsync://u@h/mod/')
  assert.deepEqual(args, ['--list-only', '--no-human-readable', '--exclude=/*', '--timeout=5', '--contimeout=5', '--sockopts=TCP_NODELAY', '--port=8730', 'rsync://u@h/mod/'])
})

test('check logs in over SSH with the same words rsync is given', () => {
  const ssh = { port: 2222, identityFile: '/etc/syncplane/id key', options: ['Compression=no'] }
  const words = sshWords(ssh, 5)
  assert.equal(words[0], 'ssh')
  assert.deepEqual(words.slice(1, 3), ['-o', 'BatchMode=yes'])
  assert.equal(buildSshCommand(ssh, 5), words.map((w) => (w.includes(' ') ? `'${w}'` : w)).join(' '))
})

test('--pre-start turns the failures the service rides out into warnings, and only those', () => {
  const checks: CheckResult[] = [
    result('target', 'web2').fail('connection refused'),
    result('peer', 'web3').fail('auth failed'),
    result('peer-api', 'web3').fail('ECONNREFUSED'),
    result('marker', '/srv/uploads/.syncplane-root').fail('missing'),
    result('inotify', source).fail('more than 8192 directories'),
    result('database', '/var/lib/syncplane/syncplane.db').fail('not writable'),
    result('source', source).fail('EACCES'),
    result('rsync', 'rsync').fail('not installed'),
  ]
  assert.deepEqual(forPreStart(checks).map((c) => `${c.check} ${c.status}`), [
    'target WARN', 'peer WARN', 'peer-api WARN', 'marker WARN', 'inotify WARN',
    'database FAIL', 'source FAIL', 'rsync FAIL',
  ])
  assert.equal(exitCodeOf(forPreStart(checks)), 1)
  assert.equal(exitCodeOf(forPreStart(checks.slice(0, 5))), 0, 'warnings alone exit 0')
})

test('the database check creates nothing, migrates nothing, and says what start will do', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncplane-dbcheck-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'deep', 'er', 'syncplane.db')
  const missing = checkDatabase(file)
  assert.deepEqual([missing.status, missing.detail], ['OK', `does not exist yet; created at start in ${dir} (writable)`])
  assert.equal(existsSync(path.join(dir, 'deep')), false, 'no directory made')

  mkdirSync(path.dirname(file), { recursive: true })
  // The database an older release left: only the first migration applied.
  const firstOnly = path.join(dir, 'migrations')
  mkdirSync(firstOnly)
  copyFileSync(listMigrations()[0]!.file, path.join(firstOnly, path.basename(listMigrations()[0]!.file)))
  const old = openDatabase(file)
  migrate(old, firstOnly)
  old.close()
  const latest = listMigrations().length
  const behind = checkDatabase(file)
  assert.equal(behind.status, 'OK', behind.detail)
  assert.match(behind.detail, new RegExp(`schema version 1; ${latest - 1} migrations? applied at start`))
  const reopened = openDatabase(file)
  assert.equal(reopened.pragma('user_version', { simple: true }), 1, 'still at version 1')
  reopened.pragma(`user_version = ${latest + 1}`)
  reopened.close()
  const ahead = checkDatabase(file)
  assert.equal(ahead.status, 'FAIL')
  assert.match(ahead.detail, /schema version \d+ is newer than this syncplane knows/)
})
