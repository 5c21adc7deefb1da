import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { runCommand } from '../helpers/run-command.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const SECRET = 'a-mesh-secret-of-some-length'

/** `serve` with a broken mesh section: exit 2 before anything starts, the key named on stderr, no stack trace. */
test('serve refuses a broken mesh section, exiting non-zero and naming the key', async (t) => {
  const tmp = await makeTempDir(t, 'syncplane-mesh-cli-')
  const source = path.join(tmp.path, 'tree')
  await mkdir(source)
  const peers = [
    { name: 'web1', api: 'http://127.0.0.1:1', url: 'rsync://sync@127.0.0.1:2/uploads/' },
    { name: 'web2', api: 'http://127.0.0.1:3', url: 'rsync://sync@127.0.0.1:4/uploads/' },
  ]
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, RegExp]> = [
    ['no self', { peers, secret: SECRET }, {}, /mesh\.self: say which peer this node is/],
    ['no secret', { peers, self: 'web1' }, {}, /mesh\.secret: the peers need a shared secret/],
    ['a self that is no peer', { peers, secret: SECRET }, { SYNCPLANE_MESH_SELF: 'web9' }, /mesh\.self: "web9" is not one of mesh\.peers \(web1, web2\)/],
    ['duplicate peer names', { peers: [...peers, { ...peers[1], api: 'http://127.0.0.1:5' }], self: 'web1', secret: SECRET }, {}, /mesh\.peers\[2\]\.name: "web2" is used by another peer/],
    ['a daemon URL with a sub-path', { peers: [peers[0], { ...peers[1], url: 'rsync://sync@127.0.0.1:4/uploads/sub/' }], self: 'web1', secret: SECRET }, {}, /mesh\.peers\[1\]\.url: a mesh peer is a whole module/],
  ]
  for (const [name, mesh, env, message] of cases) {
    const file = path.join(tmp.path, `${name.replace(/\W+/g, '-')}.yaml`)
    await writeFile(file, JSON.stringify({ source, database: path.join(tmp.path, 'db.sqlite'), mesh }))
    const res = await runCommand(process.execPath, [CLI, 'serve', '--config', file], {
      timeoutMs: 20_000,
      env: { ...process.env, SYNCPLANE_MESH_SELF: '', SYNCPLANE_MESH_SECRET: '', ...env },
    })
    assert.equal(res.code, 2, `${name}: ${res.stderr}`)
    assert.match(res.stderr, message, name)
    assert.doesNotMatch(res.stderr, /\n\s+at /, `${name}: no stack trace`)
  }
})
