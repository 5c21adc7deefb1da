import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ConfigError, parseConfig } from '../../src/config/load.js'

const dir = mkdtempSync(path.join(tmpdir(), 'syncplane-mesh-config-'))
const opts = { env: {}, baseDir: dir, origin: 'mesh.yaml' }
const SECRET = 'a-mesh-secret-of-some-length'
const peers = [
  { name: 'web1', api: 'http://10.0.0.1:8787', url: 'rsync://sync@10.0.0.1/uploads/' },
  { name: 'web2', api: 'http://10.0.0.2:8787', url: 'rsync://sync@10.0.0.2/uploads/' },
  { name: 'web3', api: 'http://10.0.0.3:8787', url: 'web3::uploads/' },
]
const base = { source: dir, database: 'sp.db' }
const meshConfig = (mesh: Record<string, unknown>) => ({ ...base, mesh: { peers, self: 'web1', secret: SECRET, ...mesh } })

const problemsOf = (raw: unknown, env: Record<string, string> = {}): string[] => {
  try {
    parseConfig(raw, { ...opts, env })
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    return err.problems
  }
  assert.fail('expected a ConfigError')
}

test('a mesh config with self, secret and peers needs no targets; self and the secret may come from the environment', () => {
  const loaded = parseConfig(meshConfig({}), opts)
  assert.equal(loaded.mesh?.self, 'web1')
  assert.equal(loaded.mesh?.secret, SECRET)
  assert.deepEqual(loaded.config.targets, [])
  assert.ok(!JSON.stringify(loaded.config).includes(SECRET), 'the secret is kept out of the config')
  const fromEnv = parseConfig({ ...base, mesh: { peers } }, { ...opts, env: { SYNCPLANE_MESH_SELF: 'web3', SYNCPLANE_MESH_SECRET: SECRET } })
  assert.equal(fromEnv.mesh?.self, 'web3')
  assert.equal(fromEnv.mesh?.secret, SECRET)
  const file = path.join(dir, 'mesh.secret')
  writeFileSync(file, `${SECRET}-from-file\n`)
  assert.equal(parseConfig(meshConfig({ secret: undefined, secretFile: 'mesh.secret' }), opts).mesh?.secret, `${SECRET}-from-file`)
})

test('a mesh config without self names mesh.self and both ways to set it', () => {
  const problems = problemsOf({ ...base, mesh: { peers, secret: SECRET } })
  assert.equal(problems.length, 1, problems.join('\n'))
  assert.match(problems[0]!, /^mesh\.self: .*SYNCPLANE_MESH_SELF/)
})

test('a mesh config without a secret (or with a short one) names mesh.secret', () => {
  const missing = problemsOf({ ...base, mesh: { peers, self: 'web1' } })
  assert.equal(missing.length, 1, missing.join('\n'))
  assert.match(missing[0]!, /^mesh\.secret: .*at least 16 characters.*SYNCPLANE_MESH_SECRET/)
  assert.match(problemsOf(meshConfig({ secret: 'short' }))[0]!, /^mesh\.secret: /)
  assert.match(problemsOf({ ...base, mesh: { peers, self: 'web1' } }, { SYNCPLANE_MESH_SECRET: 'short' })[0]!, /^mesh\.secret: /)
  const both = problemsOf({ ...base, mesh: { peers } })
  assert.ok(both.some((p) => p.startsWith('mesh.self: ')) && both.some((p) => p.startsWith('mesh.secret: ')), both.join('\n'))
  assert.match(problemsOf(meshConfig({ secret: undefined, secretFile: 'nope.secret' }))[0]!, /^mesh\.secretFile: cannot read ".*nope\.secret"/)
})

test('a self that is not among the peers is named, with the peers it could be', () => {
  assert.deepEqual(problemsOf(meshConfig({ self: 'web4' })), ['mesh.self: "web4" is not one of mesh.peers (web1, web2, web3)'])
  assert.deepEqual(problemsOf({ ...base, mesh: { peers, secret: SECRET } }, { SYNCPLANE_MESH_SELF: 'WEB1' }), ['mesh.self: "WEB1" is not one of mesh.peers (web1, web2, web3)'])
})

test('duplicate peer names are refused, naming the second', () => {
  const problems = problemsOf(meshConfig({ peers: [...peers, { ...peers[1]!, api: 'http://10.0.0.9:8787', url: 'rsync://sync@10.0.0.9/uploads/' }] }))
  assert.deepEqual(problems, ['mesh.peers[3].name: "web2" is used by another peer'])
})

test('a daemon URL with a sub-path is refused: a peer is a whole module', () => {
  for (const url of ['rsync://sync@10.0.0.2/uploads/sub/', 'rsync://sync@10.0.0.2:873/uploads/a/b', 'web2::uploads/sub']) {
    const problems = problemsOf(meshConfig({ peers: [peers[0], { ...peers[1], url }, peers[2]] }))
    assert.equal(problems.length, 1, `${url}: ${problems.join('\n')}`)
    assert.match(problems[0]!, /^mesh\.peers\[1\]\.url: a mesh peer is a whole module/, url)
  }
  for (const url of ['rsync://sync@10.0.0.2/uploads', 'rsync://sync@10.0.0.2:8873/uploads/', 'web2::uploads']) {
    assert.doesNotThrow(() => parseConfig(meshConfig({ peers: [peers[0], { ...peers[1], url }, peers[2]] }), opts), url)
  }
})

test('other mesh mistakes name their key: an API with a path, one peer only, an unknown URL scheme', () => {
  assert.match(problemsOf(meshConfig({ peers: [peers[0], { ...peers[1], api: 'http://10.0.0.2:8787/syncplane' }] }))[0]!, /^mesh\.peers\[1\]\.api: /)
  assert.match(problemsOf(meshConfig({ peers: [peers[0]] }))[0]!, /^mesh\.peers: /)
  assert.match(problemsOf(meshConfig({ peers: [peers[0], { ...peers[1], url: 'ftp://h/x' }] }))[0]!, /^mesh\.peers\[1\]\.url: unsupported URL scheme/)
  assert.match(problemsOf(meshConfig({ peers: [peers[0], { ...peers[1], passwordEnv: 'NOT_SET_ANYWHERE' }] }))[0]!, /^mesh\.peers\[1\]\.passwordEnv: environment variable NOT_SET_ANYWHERE is not set/)
})
