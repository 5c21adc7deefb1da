import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { parseConfig } from '../../src/config/load.js'

test('the docker-compose example config is valid once its paths and secrets exist', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'syncplane-compose-'))
  const raw = parse(readFileSync(new URL('../../examples/docker-compose/syncplane.yaml', import.meta.url), 'utf8')) as Record<string, any>
  const source = path.join(root, 'uploads')
  mkdirSync(source)
  writeFileSync(path.join(root, 'api_token'), 'a-long-random-api-token-here\n')
  writeFileSync(path.join(root, 'rsync_pass'), 'secret\n')
  raw.source = source
  raw.database = path.join(root, 'syncplane.db')
  raw.api.tokenFile = path.join(root, 'api_token')
  raw.targets[0].passwordFile = path.join(root, 'rsync_pass')
  const loaded = parseConfig(raw, { env: {}, baseDir: root, origin: 'compose example' })
  assert.equal(loaded.apiToken, 'a-long-random-api-token-here')
  assert.equal(loaded.secrets.get('replica'), 'secret')
})
