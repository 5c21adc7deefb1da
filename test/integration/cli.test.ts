import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { runCommand } from '../helpers/run-command.js'
import { getFreePort } from '../helpers/free-port.js'
import { waitFor } from '../helpers/wait-for.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

describe('syncplane serve', () => {
  let tmp: TempDir
  let source: string
  let replica: string

  const teardown = suiteTeardown()
  before(async () => {
    tmp = await makeTempDir(teardown)
    source = path.join(tmp.path, 'source')
    replica = path.join(tmp.path, 'replica')
    await mkdir(source)
    await mkdir(replica)
  })

  const serveWith = async (yaml: string) => {
    const file = path.join(tmp.path, `config-${Math.random().toString(36).slice(2)}.yaml`)
    await writeFile(file, yaml)
    return runCommand(process.execPath, [CLI, 'serve', '--config', file], { timeoutMs: 20_000 })
  }

  const BAD: Array<[string, () => string, RegExp]> = [
    ['a missing source', () => `database: ${tmp.path}/a.db\ntargets: [{ name: r, url: ${replica}/ }]\n`, /source: is required/],
    ['a source that does not exist', () => `source: ${tmp.path}/nope\ndatabase: ${tmp.path}/a.db\ntargets: [{ name: r, url: ${replica}/ }]\n`, /source: ".*\/nope" does not exist/],
    ['an unknown target URL scheme', () => `source: ${source}\ndatabase: ${tmp.path}/a.db\ntargets: [{ name: r, url: "ftp://host/x" }]\n`, /targets\[0\]\.url: unsupported URL scheme "ftp:\/\/"/],
    ['a port of the wrong type', () => `source: ${source}\ndatabase: ${tmp.path}/a.db\napi: { port: eighty }\ntargets: [{ name: r, url: ${replica}/ }]\n`, /api\.port: must be integer/],
    ['a list where a mapping belongs', () => `source: ${source}\ndatabase: ${tmp.path}/a.db\nbatch: [1, 2]\ntargets: [{ name: r, url: ${replica}/ }]\n`, /batch: must be object/],
    ['no targets', () => `source: ${source}\ndatabase: ${tmp.path}/a.db\ntargets: []\n`, /targets: name at least one target, or configure a mesh/],
    ['invalid YAML', () => 'source: [unclosed\n', /not valid YAML/],
  ]

  for (const [name, yaml, message] of BAD) {
    test(`${name} exits non-zero naming the key`, async () => {
      const res = await serveWith(yaml())
      assert.equal(res.code, 2, res.stderr)
      assert.match(res.stderr, message)
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace')
    })
  }

  test('a config file that does not exist exits non-zero', async () => {
    const res = await runCommand(process.execPath, [CLI, 'serve', '--config', path.join(tmp.path, 'missing.yaml')])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /cannot read the file/)
  })

  test('an unknown command prints usage and exits 2', async () => {
    const res = await runCommand(process.execPath, [CLI, 'frobnicate'])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /Usage: syncplane/)
  })

  test('a valid config serves the API and SIGTERM stops it cleanly', async () => {
    const port = await getFreePort()
    const file = path.join(tmp.path, 'good.yaml')
    await writeFile(file, `source: ${source}\ndatabase: ${tmp.path}/good.db\napi: { port: ${port} }\ntargets: [{ name: r, url: ${replica}/ }]\n`)
    const child = spawn(process.execPath, [CLI, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      const ready = await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`)
        return res.status === 200 ? res.json() : undefined
      }, { message: 'the service becomes ready' })
      assert.equal((ready as { status: string }).status, 'ready')
      await writeFile(path.join(source, 'via-cli.txt'), 'hello')
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/v1/jobs?kind=incremental&status=succeeded`).then((r) => r.json()) as { jobs: unknown[] }).jobs.length > 0)
    } finally {
      child.kill('SIGTERM')
    }
    assert.equal(await exited, 0)
  })
})
