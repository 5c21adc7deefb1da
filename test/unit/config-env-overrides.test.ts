import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError, parseConfig } from '../../src/config/load.js'

const dir = mkdtempSync(path.join(tmpdir(), 'syncplane-config-env-'))
const base = { source: dir, database: 'sp.db', logLevel: 'warn', api: { host: '127.0.0.1', port: 9000 }, targets: [{ name: 'backup', url: '/mnt/backup/' }] }
const load = (raw: unknown, env: Record<string, string>) => parseConfig(raw, { env, baseDir: dir, origin: 'test.yaml' })

const problemsOf = (raw: unknown, env: Record<string, string>): string[] => {
  try {
    load(raw, env)
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.problems
  }
  assert.fail('expected a ConfigError')
}

test('SYNCPLANE_API_HOST, SYNCPLANE_API_PORT and SYNCPLANE_LOG_LEVEL win over the file, which is left as it was', () => {
  const raw = structuredClone(base)
  const { config } = load(raw, { SYNCPLANE_API_HOST: '::1', SYNCPLANE_API_PORT: '8788', SYNCPLANE_LOG_LEVEL: 'debug' })
  assert.equal(config.api.host, '::1')
  assert.equal(config.api.port, 8788)
  assert.equal(config.logLevel, 'debug')
  assert.deepEqual(raw, base)
})

test('without the variables, or with them empty, the file (or the default) holds', () => {
  assert.deepEqual([load(base, {}).config.api.port, load(base, {}).config.logLevel], [9000, 'warn'])
  const { config } = load(base, { SYNCPLANE_API_HOST: '', SYNCPLANE_API_PORT: '', SYNCPLANE_LOG_LEVEL: '' })
  assert.deepEqual([config.api.host, config.api.port, config.logLevel], ['127.0.0.1', 9000, 'warn'])
  const { api: _api, logLevel: _level, ...bare } = base
  const defaults = load(bare, { SYNCPLANE_API_PORT: '0' }).config
  assert.deepEqual([defaults.api.host, defaults.api.port, defaults.api.trustProxy, defaults.logLevel], ['127.0.0.1', 0, false, 'info'])
})

test('a value the key cannot take is refused, naming the variable', () => {
  assert.deepEqual(problemsOf(base, { SYNCPLANE_API_PORT: 'http', SYNCPLANE_LOG_LEVEL: 'verbose' }), [
    'SYNCPLANE_API_PORT: "http" is not an integer from 0 to 65535 (it stands for api.port)',
    'SYNCPLANE_LOG_LEVEL: "verbose" is not one of fatal, error, warn, info, debug, trace, silent (it stands for logLevel)',
  ])
  for (const port of ['65536', '-1', '80.5', ' 80', '123456']) {
    assert.match(problemsOf(base, { SYNCPLANE_API_PORT: port })[0]!, /^SYNCPLANE_API_PORT: /, port)
  }
})

test('a host set from the environment is held to the same rule: off loopback, a token or an explicit opt-out', () => {
  assert.match(problemsOf(base, { SYNCPLANE_API_HOST: '0.0.0.0' }).join('\n'), /api\.host: "0\.0\.0\.0" is reachable from other machines but the API has no token/)
  const withToken = load(base, { SYNCPLANE_API_HOST: '0.0.0.0', SYNCPLANE_API_TOKEN: 'a-token-of-sixteen-or-more' })
  assert.equal(withToken.config.api.host, '0.0.0.0')
  assert.equal(withToken.apiToken, 'a-token-of-sixteen-or-more')
})
