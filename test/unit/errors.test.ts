import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ClientError, ConfigError, ErrorCodes, InternalError, InternalErrorCodes, NonError, RsyncUnavailableError, TargetUrlError } from '../../src/errors.js'

test('docs/errors.md lists every code of the catalogue, and no other', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  const listed = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1])
  assert.deepEqual(listed, [...Object.keys(ErrorCodes), ...Object.keys(InternalErrorCodes)])
})

test('every error class outside HTTP is an InternalError with its code', () => {
  const made: Array<[InternalError, string]> = [
    [new ConfigError('f.yaml', ['source: missing']), 'SP_CONFIG_INVALID'],
    [new TargetUrlError('bad'), 'SP_TARGET_URL_INVALID'],
    [new RsyncUnavailableError('none'), 'SP_RSYNC_UNAVAILABLE'],
    [new ClientError('SP_CLI_USAGE', 'usage'), 'SP_CLI_USAGE'],
    [new NonError('42'), 'SP_NON_ERROR_THROWN'],
  ]
  for (const [err, code] of made) {
    assert.ok(err instanceof InternalError, err.name)
    assert.equal(err.code, code, err.name)
    assert.ok(code in InternalErrorCodes)
  }
  assert.equal(new ClientError('SP_CLI_UNREACHABLE', 'down').exitCode, 3)
  assert.equal(new ConfigError('f.yaml', ['a', 'b']).message, 'invalid configuration in f.yaml:\n  - a\n  - b')
})
