import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { parseConfig } from '../../src/config/load.js'
import { ConfigSchema } from '../../src/config/schema.js'
import { SERVICE_ENV, SERVICE_NODE_ARGS } from '../../bench/common.js'

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

/** Dotted paths of every key the schema knows, array items as `[]`. */
function schemaKeys (schema: Record<string, any>, prefix = ''): string[] {
  if (schema.type === 'array' && schema.items?.type === 'object') return schemaKeys(schema.items, `${prefix}[]`)
  if (schema.type !== 'object' || schema.properties === undefined) return [prefix]
  return Object.entries(schema.properties as Record<string, any>).flatMap(([k, v]) => [`${prefix}${prefix ? '.' : ''}${k}`, ...schemaKeys(v, `${prefix}${prefix ? '.' : ''}${k}`).filter((p) => p !== `${prefix}${prefix ? '.' : ''}${k}`)])
}

test('the production example config is valid once its files exist, and names every key the service knows', (t) => {
  const text = readFileSync(new URL('../../examples/syncplane.yaml', import.meta.url), 'utf8')
  const raw = parse(text) as Record<string, any>
  const root = mkdtempSync(path.join(tmpdir(), 'syncplane-example-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  raw.source = path.join(root, 'uploads')
  mkdirSync(raw.source)
  raw.database = path.join(root, 'syncplane.db')
  for (const t of raw.targets as Array<Record<string, any>>) {
    if (t.passwordFile !== undefined) writeFileSync(t.passwordFile = path.join(root, `${t.name}.password`), 'secret\n')
    if (t.ssh !== undefined) {
      writeFileSync(t.ssh.identityFile = path.join(root, 'id_ed25519'), 'key\n')
      writeFileSync(t.ssh.knownHostsFile = path.join(root, 'known_hosts'), 'host key\n')
    }
    if (t.url.startsWith('/')) t.url = `${path.join(root, 'backup')}/`
  }
  parseConfig(raw, { env: {}, baseDir: root, origin: 'production example' })

  // A key is named when it is set, or shown in a comment ("#   token: …").
  const present = (keyPath: string, doc: any): boolean => {
    const [head, ...rest] = keyPath.split('.')
    if (head!.endsWith('[]')) return (doc?.[head!.slice(0, -2)] as unknown[] ?? []).some((item) => rest.length === 0 || present(rest.join('.'), item))
    if (doc === undefined || !(head! in doc)) return false
    return rest.length === 0 || present(rest.join('.'), doc[head!])
  }
  const missing = schemaKeys(ConfigSchema as unknown as Record<string, any>)
    .filter((k) => !present(k, raw) && !new RegExp(`#\\s+${k.split('.').at(-1)!.replace('[]', '')}:`).test(text))
  assert.deepEqual(missing, [], 'keys the example neither sets nor shows in a comment')
})

test('the systemd unit: Type=exec, reload by SIGHUP, and a pre-start step only with a command the CLI has', () => {
  const text = readFileSync(new URL('../../examples/systemd/syncplane.service', import.meta.url), 'utf8')
  const directives = text.split('\n').filter((l) => /^[A-Z]\w*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)
  const values = (key: string): string[] => directives.filter(([k]) => k === key).map(([, v]) => v)
  assert.deepEqual(values('Type'), ['exec'])
  assert.deepEqual(values('ExecReload'), ['/bin/kill -HUP $MAINPID'])
  assert.match(values('ExecStart')[0]!, /\/dist\/cli\.js serve --config \//)
  const usage = readFileSync(new URL('../../src/cli.ts', import.meta.url), 'utf8')
  for (const pre of values('ExecStartPre')) {
    const command = /(?:cli\.js|syncplane) (\w[\w-]*)/.exec(pre)?.[1]
    assert.ok(command !== undefined && new RegExp(`\\n  ${command}\\b`).test(usage), `ExecStartPre runs "${pre}", which the CLI does not have`)
  }
  assert.doesNotMatch(text, /watcher \(chokidar\) holds/, 'the default watcher is parcel')
})

test('the systemd unit and npm start run node as the benchmark measured it: the same flags and malloc settings', () => {
  const unit = readFileSync(new URL('../../examples/systemd/syncplane.service', import.meta.url), 'utf8')
  const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(/\s+/)
  const start = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts.start!.split(/\s+/)
  for (const [where, argv] of [['ExecStart', execStart], ['npm start', start]] as const) {
    const node = argv.findIndex((w) => /(^|\/)node$/.test(w))
    const flags = argv.slice(node + 1, argv.findIndex((w) => w.endsWith('dist/cli.js')))
    assert.deepEqual(flags, SERVICE_NODE_ARGS, `${where}: node's flags`)
    for (const [key, value] of Object.entries(SERVICE_ENV)) {
      assert.ok(where === 'ExecStart' ? unit.includes(`\nEnvironment=${key}=${value}\n`) : argv.slice(0, node).includes(`${key}=${value}`), `${where}: ${key}=${value}`)
    }
  }
})
