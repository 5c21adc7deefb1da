import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseConfig } from '../../src/config/load.js'
import { diffConfig, isRestartOnly } from '../../src/config/diff.js'

const dir = mkdtempSync(path.join(tmpdir(), 'syncplane-diff-'))
const opts = { env: {}, baseDir: dir, origin: 'test.yaml' }
const base = { source: dir, database: 'sp.db', targets: [{ name: 'a', url: '/mnt/a/' }, { name: 'b', url: '/mnt/b/' }] }
const load = (raw: Record<string, unknown>) => parseConfig({ ...base, ...raw }, opts)

test('the same file again changes nothing', () => {
  assert.deepEqual(diffConfig(load({}), load({})), { keys: [], restartOnly: [], targets: { added: [], removed: [], changed: [] } })
})

test('engine settings are named by their key and need no restart', () => {
  const changes = diffConfig(load({}), load({ batch: { quietMs: 100 }, exclude: ['*.tmp'], logLevel: 'debug', fullSync: { intervalSec: 60 } }))
  assert.deepEqual(changes.keys.sort(), ['batch.quietMs', 'exclude', 'fullSync.intervalSec', 'logLevel'])
  assert.deepEqual(changes.restartOnly, [])
})

test('source, database and api need a restart', () => {
  const other = mkdtempSync(path.join(tmpdir(), 'syncplane-diff-src-'))
  const changes = diffConfig(load({}), load({ source: other, database: 'other.db', api: { port: 9999 }, batch: { quietMs: 5 } }))
  assert.deepEqual(changes.restartOnly.sort(), ['api.port', 'database', 'source'])
  assert.ok(changes.keys.includes('batch.quietMs'))
  assert.ok(isRestartOnly('watcher.backend') && isRestartOnly('rsync.binary') && !isRestartOnly('rsync.extraArgs'))
})

test('targets are compared by name: added, removed, changed, and reordering is no change', () => {
  const before = load({})
  assert.deepEqual(diffConfig(before, load({ targets: [base.targets[1], base.targets[0]] })).targets, { added: [], removed: [], changed: [] })
  const after = load({ targets: [{ name: 'b', url: '/mnt/b2/' }, { name: 'c', url: '/mnt/c/' }] })
  assert.deepEqual(diffConfig(before, after).targets, { added: ['c'], removed: ['a'], changed: ['b'] })
})

test('a new password in the password file changes the target, and is not reported', () => {
  const file = path.join(dir, 'pw')
  const daemon = { targets: [{ name: 'd', url: 'rsync://u@h/m/', passwordFile: 'pw' }] }
  writeFileSync(file, 'old\n')
  const before = load(daemon)
  writeFileSync(file, 'new\n')
  const changes = diffConfig(before, load(daemon))
  assert.deepEqual(changes.targets.changed, ['d'])
  assert.doesNotMatch(JSON.stringify(changes), /old|new/)
})
