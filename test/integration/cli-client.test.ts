import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { runCommand } from '../helpers/run-command.js'
import { getFreePort } from '../helpers/free-port.js'
import { spawnService, type ServiceProcess } from '../helpers/service-process.js'
import { startTarget, type TestTarget } from '../helpers/targets.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const TOKEN = 'cli-test-token-0123456789'

describe('the syncplane CLI client against a live service', () => {
  let tmp: TempDir
  let target: TestTarget
  let svc: ServiceProcess
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCommand(process.execPath, [CLI, ...args], { env: { ...process.env, SYNCPLANE_URL: svc.url, SYNCPLANE_API_TOKEN: TOKEN, ...env } })

  const teardown = suiteTeardown()
  before(async () => {
    tmp = await makeTempDir(teardown)
    target = await startTarget(tmp, 'local', 'backup')
    svc = await spawnService(tmp, { config: { api: {}, targets: [target.config] }, env: { SYNCPLANE_API_TOKEN: TOKEN } })
    await svc.waitReady()
  })

  test('status prints a table, --json the API answer', async () => {
    const res = await cli(['status'])
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /^watcher: running\nTARGET +STATE +PENDING/)
    assert.match(res.stdout, /\nbackup +(idle|syncing|waiting)/)
    const json = await cli(['status', '--json'])
    assert.equal(JSON.parse(json.stdout).targets[0].name, 'backup')
  })

  test('version prints the client\'s and the server\'s; without a server, the client\'s and exit 3', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const res = await cli(['version'])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout, `client ${version}\nserver ${version}\n`)
    assert.deepEqual(JSON.parse((await cli(['version', '--json'])).stdout), { client: version, server: version })
    const closed = await getFreePort()
    const down = await cli(['version', '--url', `http://127.0.0.1:${closed}`])
    assert.equal(down.code, 3)
    assert.equal(down.stdout, `client ${version}\n`)
    assert.equal(down.stderr, `syncplane version: server version unknown: cannot reach syncplane at http://127.0.0.1:${closed}: ECONNREFUSED\n`)
    assert.equal((await cli(['--version'])).stdout, `${version}\n`)
  })

  test('pause and resume say what they did; a flush while paused says which command to run', async () => {
    assert.equal((await cli(['pause'])).stdout, 'watching paused\n')
    assert.equal((await cli(['pause'])).stdout, 'watching was already paused\n')
    const paused = await cli(['flush'])
    assert.equal(paused.code, 1)
    assert.equal(paused.stderr, 'syncplane flush: 409 Watching is paused: watching is paused: nothing would reach the targets; run "syncplane resume" first\n')
    assert.equal((await cli(['resume'])).stdout, 'watching resumed\n')
  })

  test('flush PATH returns once the file is on the target', async () => {
    await writeFile(path.join(svc.source, 'via cli.txt'), 'flushed')
    const res = await cli(['flush', 'via cli.txt'])
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /^flushed: every change is on every target/)
    assert.equal(await readFile(path.join(target.dir, 'via cli.txt'), 'utf8'), 'flushed')
  })

  test('resync --wait exits 0 when the mirror succeeded and jobs lists it', async () => {
    const res = await cli(['resync', '--wait', '--timeout', '60'])
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /^ID +TARGET +KIND/)
    assert.match(res.stdout, /backup +full +api +succeeded/)
    const jobs = await cli(['jobs', '--kind', 'full', '--limit', '5'])
    assert.match(jobs.stdout, /full +api +succeeded/)
  })

  test('failures exit non-zero with a one-line reason', async () => {
    const unknown = await cli(['resync', '--target', 'nowhere'])
    assert.equal(unknown.code, 1)
    assert.equal(unknown.stderr, 'syncplane resync: 404 Unknown target: no target named "nowhere"\n')
    const badToken = await cli(['status'], { SYNCPLANE_API_TOKEN: 'wrong-token-wrong-token' })
    assert.equal(badToken.code, 1)
    assert.match(badToken.stderr, /^syncplane status: 401 Unauthorized: the bearer token is not valid\n$/)
    const closed = await getFreePort()
    const down = await cli(['status', '--url', `http://127.0.0.1:${closed}`])
    assert.equal(down.code, 3)
    assert.equal(down.stderr, `syncplane status: cannot reach syncplane at http://127.0.0.1:${closed}: ECONNREFUSED\n`)
    const usage = await cli(['jobs', '--limit', 'many'])
    assert.equal(usage.code, 2)
  })

  test('resync --dry-run lists what a forced mirror would do and changes nothing; confirm-deletes refuses when nothing is held', async () => {
    const stray = path.join(target.dir, 'stray name.txt')
    await writeFile(stray, 'only on the target')
    const preview = await cli(['resync', '--dry-run'])
    assert.equal(preview.code, 0, preview.stderr)
    assert.match(preview.stdout, /backup: would delete 1\n {2}"stray name\.txt"\n/)
    assert.equal(await readFile(stray, 'utf8'), 'only on the target')
    const nothing = await cli(['confirm-deletes', 'backup'])
    assert.equal(nothing.code, 1)
    assert.match(nothing.stderr, /409 The target holds no deletions: target "backup" holds no deletions/)
    const usage = await cli(['confirm-deletes', 'backup', '--expected', 'some'])
    assert.equal(usage.code, 2)
    await rm(stray)
  })
})
