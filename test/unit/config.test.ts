import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError, parseConfig } from '../../src/config/load.js'

const dir = mkdtempSync(path.join(tmpdir(), 'syncplane-config-'))
const opts = { env: { WEB2_PASS: 's3cret' }, baseDir: dir, origin: 'test.yaml' }
const base = { source: dir, database: 'sp.db', targets: [{ name: 'backup', url: '/mnt/backup/' }] }

const problemsOf = (raw: unknown): string[] => {
  try {
    parseConfig(raw, opts)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.problems
  }
  assert.fail('expected a ConfigError')
}

test('a minimal config gets every default and is frozen', () => {
  const { config } = parseConfig(base, opts)
  assert.equal(config.api.port, 8787)
  assert.equal(config.api.host, '127.0.0.1')
  assert.equal(config.fullSync.onStart, true)
  assert.deepEqual(config.exclude, [])
  assert.equal(config.database, path.join(dir, 'sp.db'), 'relative database paths resolve against the config file')
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.targets[0]))
})

test('a missing source names the key', () => {
  const { source: _omitted, ...noSource } = base
  assert.deepEqual(problemsOf(noSource), ['source: is required'])
  assert.match(problemsOf({ ...base, source: '/does/not/exist' })[0]!, /^source: "\/does\/not\/exist" does not exist/)
  assert.match(problemsOf({ ...base, source: 'relative' })[0]!, /^source: must be an absolute path/)
})

test('an unknown target URL scheme names the target', () => {
  assert.deepEqual(problemsOf({ ...base, targets: [{ name: 'x', url: 'ftp://h/p' }] }), [
    'targets[0].url: unsupported URL scheme "ftp://" (use rsync://host/module/, [user@]host:/path for SSH, or an absolute local path)',
  ])
})

test('the native watcher is the default, and polling asks for chokidar by name', () => {
  assert.equal(parseConfig(base, opts).config.watcher.backend, 'parcel')
  assert.deepEqual(problemsOf({ ...base, watcher: { usePolling: true } }), [
    'watcher.usePolling: polling needs watcher.backend: chokidar (the backend is "parcel")',
  ])
  assert.equal(parseConfig({ ...base, watcher: { backend: 'chokidar', usePolling: true } }, opts).config.watcher.usePolling, true)
  assert.match(problemsOf({ ...base, watcher: { backend: 'fsevents' } })[0]!, /^watcher\.backend: .*parcel.*chokidar/)
})

test('wrong types and unknown keys are reported, all at once', () => {
  const problems = problemsOf({ ...base, api: { port: 'eighty' }, batch: { quietMs: -1 }, colour: 'blue' })
  assert.ok(problems.includes('colour: unknown key'), problems.join('\n'))
  assert.ok(problems.some((p) => p.startsWith('api.port: ')), problems.join('\n'))
  assert.ok(problems.some((p) => p.startsWith('batch.quietMs: ')), problems.join('\n'))
})

test('passwords come from a file or the environment and are kept out of the config', () => {
  const file = path.join(dir, 'web2.pass')
  writeFileSync(file, 'from-file\n')
  chmodSync(file, 0o600)
  const loaded = parseConfig({
    ...base,
    targets: [
      { name: 'a', url: 'rsync://u@h/m/', passwordFile: 'web2.pass' },
      { name: 'b', url: 'rsync://u@h/m/', passwordEnv: 'WEB2_PASS' },
    ]
  }, opts)
  assert.equal(loaded.secrets.get('a'), 'from-file')
  assert.equal(loaded.secrets.get('b'), 's3cret')
  assert.ok(!JSON.stringify(loaded.config).includes('s3cret'))
  assert.deepEqual(problemsOf({ ...base, targets: [{ name: 'c', url: 'rsync://u@h/m/', passwordEnv: 'NOPE' }] }),
    ['targets[0].passwordEnv: environment variable NOPE is not set'])
})

test('duplicate names, a target inside the source and SSH-only options on a daemon are refused', () => {
  const problems = problemsOf({
    ...base,
    targets: [
      { name: 'a', url: `${dir}/inside/` },
      { name: 'a', url: 'rsync://h/m/', ssh: { port: 22 } },
    ]
  })
  assert.ok(problems.includes('targets[0].url: a local target must not be inside the source or contain it'), problems.join('\n'))
  assert.ok(problems.includes('targets[1].name: "a" is used by another target'), problems.join('\n'))
  assert.ok(problems.includes('targets[1].ssh: applies only to SSH targets (host:/path)'), problems.join('\n'))
})

test('ssh options that syncplane depends on are refused, naming the option and the way to turn sharing off', () => {
  const problems = problemsOf({
    ...base,
    targets: [
      { name: 'web3', url: 'deploy@web3:/srv/up/', ssh: { options: ['Compression=no', 'ControlPath /tmp/x', 'batchmode=no'] } },
    ]
  })
  assert.equal(problems.length, 2, problems.join('\n'))
  assert.match(problems[0]!, /^targets\[0\]\.ssh\.options\[1\]: ControlPath \/tmp\/x is set by syncplane .*controlPersistSec/)
  assert.match(problems[1]!, /^targets\[0\]\.ssh\.options\[2\]: batchmode=no is set by syncplane/)
  const loaded = parseConfig({ ...base, targets: [{ name: 'web3', url: 'deploy@web3:/srv/up/', ssh: { port: 2222 } }] }, opts)
  assert.equal(loaded.config.targets[0]!.ssh!.controlPersistSec, 60)
})

test('the configuration reference in docs/configuration.md is generated from the schema (run `npm run docs:config` to refresh it)', async () => {
  const { readFileSync } = await import('node:fs')
  const { renderConfigReference } = await import('../../src/config/reference.js')
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  assert.ok(doc.includes(`<!-- config-reference:start -->\n${renderConfigReference()}<!-- config-reference:end -->`))
})

test('the source is a path or a mapping with a path and a root marker, and a wrong form says which', () => {
  assert.equal(parseConfig(base, opts).config.sourceMarker, null)
  const long = parseConfig({ ...base, source: { path: dir, marker: '.syncplane-root' } }, opts).config
  assert.equal(long.source, dir)
  assert.equal(long.sourceMarker, '.syncplane-root')
  assert.deepEqual(problemsOf({ ...base, source: 5 }), ['source: must be a path or a mapping with path (and marker)'])
  assert.deepEqual(problemsOf({ ...base, source: { path: dir, markr: 'x' } }), ['source.markr: unknown key'])
  assert.deepEqual(problemsOf({ ...base, source: { path: dir, marker: 'a/b' } }), ['source.marker: must match pattern "^[^/]+$"'])
  assert.deepEqual(problemsOf({ ...base, deletes: { maxPercent: 150 } }), ['deletes.maxPercent: must be <= 100'])
})
