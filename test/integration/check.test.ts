import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { runCommand, type RunResult } from '../helpers/run-command.js'
import { getFreePort } from '../helpers/free-port.js'
import { skipReason, startTarget, type TestTarget } from '../helpers/targets.js'
import { canMount, mountTmpfs } from '../helpers/tmpfs.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

interface Check { check: string, status: string, subject: string, detail: string }
interface Report { status: string, exitCode: number, preStart: boolean, checks: Check[] }

/**
 * `syncplane check` of the built CLI against real targets: a loopback rsync
 * daemon with auth, an sshd, local directories, read-only mounts.
 */
describe('syncplane check', () => {
  let tmp: TempDir
  let source: string
  let daemon: TestTarget
  let stopped: TestTarget

  const teardown = suiteTeardown()
  before(async () => {
    tmp = await makeTempDir(teardown, 'syncplane-check-')
    source = path.join(tmp.path, 'source')
    await mkdir(source)
    daemon = await startTarget(tmp, 'daemon', 'good')
    stopped = await startTarget(tmp, 'daemon', 'stopped')
    await stopped.daemon!.stop()
  })

  let configs = 0
  const check = async (config: Record<string, unknown>, opts: { env?: Record<string, string>, args?: string[] } = {}): Promise<RunResult> => {
    const file = path.join(tmp.path, `config-${++configs}.yaml`)
    await writeFile(file, JSON.stringify({ source, database: path.join(tmp.path, 'syncplane.db'), ...config }))
    return runCommand(process.execPath, [CLI, 'check', '--config', file, '--timeout', '5', ...(opts.args ?? [])], {
      env: { ...process.env, ...daemon.env, ...opts.env },
      timeoutMs: 30_000,
    })
  }
  const report = (res: RunResult): Report => {
    try {
      return JSON.parse(res.stdout) as Report
    } catch {
      throw new Error(`not JSON (exit ${res.code}):\n${res.stdout}\n${res.stderr}`)
    }
  }
  const only = (r: Report, name: string): Check => {
    const found = r.checks.filter((c) => c.check === name)
    assert.equal(found.length, 1, `one ${name} check in ${JSON.stringify(r.checks, null, 2)}`)
    return found[0]!
  }

  test('a daemon target that answers and takes the password is OK, and all OK exits 0', async () => {
    const res = await check({ targets: [daemon.config] }, { args: ['--json'] })
    const r = report(res)
    assert.equal(res.code, 0, res.stdout)
    const target = only(r, 'target')
    assert.equal(target.status, 'OK', target.detail)
    assert.match(target.detail, /accepted the user and password/)
    assert.deepEqual(r.checks.map((c) => c.check), ['config', 'rsync', 'source', 'inotify', 'database', 'target'])
    assert.ok(r.checks.every((c) => c.status === 'OK'), JSON.stringify(r.checks, null, 2))
  })

  test('the --json report: the worst status, the exit code, --pre-start, and check, status, subject and detail per check', async () => {
    const r = report(await check({ targets: [daemon.config] }, { args: ['--json'] }))
    assert.deepEqual(Object.keys(r), ['status', 'exitCode', 'preStart', 'checks'])
    assert.deepEqual({ status: r.status, exitCode: r.exitCode, preStart: r.preStart }, { status: 'OK', exitCode: 0, preStart: false })
    for (const c of r.checks) {
      assert.deepEqual(Object.keys(c), ['check', 'status', 'subject', 'detail'])
      assert.ok(['OK', 'WARN', 'FAIL'].includes(c.status))
    }
    assert.equal(only(r, 'target').subject, `good (${daemon.config.url as string})`)
  })

  test('without --json: one line per check with its status, then the count of each', async () => {
    const res = await check({ targets: [daemon.config, { name: 'down', url: stopped.config.url, passwordEnv: 'NOPE' }] }, { env: { NOPE: 'x' } })
    const lines = res.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^STATUS\s+CHECK\s+SUBJECT\s+DETAIL$/)
    assert.match(lines.find((l) => l.includes('good ('))!, /^OK\s+target\s+good \(rsync:\/\/.*accepted the user and password$/)
    assert.match(lines.find((l) => l.includes('down ('))!, /^FAIL\s+target\s+down \(rsync:\/\/.*Connection refused/)
    assert.equal(lines.at(-1), '6 OK, 0 WARN, 1 FAIL')
    assert.equal(res.code, 1)
  })

  test('a wrong daemon password fails naming auth, and no password appears in the output', async () => {
    const res = await check({ targets: [{ ...daemon.config, passwordEnv: 'WRONG_PASSWORD' }] }, { env: { WRONG_PASSWORD: 'wrong-password-4417' }, args: ['--json'] })
    const target = only(report(res), 'target')
    assert.equal(target.status, 'FAIL')
    assert.match(target.detail, /auth failed/)
    assert.equal(res.code, 1)
    assert.ok(!res.stdout.includes('wrong-password-4417') && !res.stderr.includes('wrong-password-4417'), 'the configured password is not shown')
    assert.ok(!res.stdout.includes(daemon.daemon!.password), 'nor the daemon\'s')
  })

  test('a daemon module that needs a password and is given none fails saying none is configured', async () => {
    const { passwordEnv: _none, ...withoutPassword } = daemon.config
    const target = only(report(await check({ targets: [withoutPassword] }, { args: ['--json'] })), 'target')
    assert.equal(target.status, 'FAIL')
    assert.match(target.detail, /auth failed: the module needs a password and none is configured/)
  })

  test('a target is probed with its own rsync.extraArgs after the global ones, as its runs are', async () => {
    const own = { ...daemon.config, name: 'own', rsync: { extraArgs: ['--password-file=/nonexistent/syncplane-check'] } }
    const r = report(await check({ targets: [daemon.config, own] }, { args: ['--json'] }))
    const byName = new Map(r.checks.filter((c) => c.check === 'target').map((c) => [c.subject.split(' ')[0], c]))
    assert.equal(byName.get('good')?.status, 'OK', byName.get('good')?.detail)
    assert.equal(byName.get('own')?.status, 'FAIL')
    assert.match(byName.get('own')!.detail, /nonexistent\/syncplane-check/)
  })

  test('a module the daemon does not have fails naming it', async () => {
    const url = (daemon.config.url as string).replace(/\/upload\/$/, '/nosuchmodule/')
    const target = only(report(await check({ targets: [{ ...daemon.config, url }] }, { args: ['--json'] })), 'target')
    assert.equal(target.status, 'FAIL')
    assert.match(target.detail, /Unknown module 'nosuchmodule'/)
  })

  test('a stopped daemon fails with connection refused', async () => {
    const res = await check({ targets: [{ ...stopped.config, passwordEnv: Object.keys(daemon.env)[0] }] }, { args: ['--json'] })
    const target = only(report(res), 'target')
    assert.equal(target.status, 'FAIL')
    assert.match(target.detail, /connection refused.*Connection refused \(111\)/s)
    assert.equal(res.code, 1)
  })

  test('a destination below the module root is probed in its parent, which the first run makes it in', async () => {
    const target = only(report(await check({ targets: [{ ...daemon.config, url: `${daemon.config.url as string}not-yet/` }] }, { args: ['--json'] })), 'target')
    assert.equal(target.status, 'OK', target.detail)
    assert.match(target.detail, /--list-only rsync:\/\/.*\/upload\/:/)
  })

  describe('SSH targets', { skip: skipReason('ssh') }, () => {
    let ssh: TestTarget
    before(async () => {
      ssh = await startTarget(tmp, 'ssh', 'ssh')
    })

    test('an SSH target whose host key is known and key accepted in batch mode is OK', async () => {
      const target = only(report(await check({ targets: [ssh.config] }, { args: ['--json'] })), 'target')
      assert.equal(target.status, 'OK', target.detail)
      assert.match(target.detail, /logged in/)
    })

    test('an SSH target whose host key is not known fails naming the host key', async () => {
      const emptyKnownHosts = path.join(tmp.path, 'empty_known_hosts')
      await writeFile(emptyKnownHosts, '')
      const config = ssh.config as { ssh: Record<string, unknown> }
      const res = await check({ targets: [{ ...ssh.config, ssh: { ...config.ssh, knownHostsFile: emptyKnownHosts } }] }, { args: ['--json'] })
      const target = only(report(res), 'target')
      assert.equal(target.status, 'FAIL')
      assert.match(target.detail, /host key is not known.*Host key verification failed/s)
      assert.equal(res.code, 1)
    })
  })

  test('a local target under a file fails; a missing one whose parent is writable is OK', async () => {
    const file = path.join(tmp.path, 'a-file')
    await writeFile(file, 'not a directory')
    const r = report(await check({ targets: [{ name: 'under-file', url: `${file}/replica/` }, { name: 'new', url: `${tmp.path}/new-replica/` }] }, { args: ['--json'] }))
    const [underFile, fresh] = r.checks.filter((c) => c.check === 'target')
    assert.equal(underFile!.status, 'FAIL')
    assert.match(underFile!.detail, /ENOTDIR/)
    assert.equal(fresh!.status, 'OK', fresh!.detail)
    assert.match(fresh!.detail, /does not exist yet; the first run creates it/)
  })

  test('a local target and a database on a read-only mount fail, even as root', { skip: canMount() ? false : 'mounting needs root' }, async () => {
    const ro = path.join(tmp.path, 'ro')
    await mountTmpfs(tmp, ro)
    await mkdir(path.join(ro, 'replica'))
    await mkdir(path.join(ro, 'db'))
    execFileSync('mount', ['-o', 'remount,ro', ro])
    const res = await check({ database: path.join(ro, 'db', 'syncplane.db'), targets: [{ name: 'ro', url: `${ro}/replica/` }] }, { args: ['--json'] })
    const r = report(res)
    assert.equal(only(r, 'target').status, 'FAIL')
    assert.match(only(r, 'target').detail, /not writable: EROFS/)
    assert.equal(only(r, 'database').status, 'FAIL')
    assert.match(only(r, 'database').detail, /not writable: EROFS/)
    assert.equal(res.code, 1)
  })

  test('a database file that is not SQLite fails', async () => {
    const database = path.join(tmp.path, 'garbage.db')
    await writeFile(database, 'this is not a database, '.repeat(100))
    const db = only(report(await check({ database, targets: [daemon.config] }, { args: ['--json'] })), 'database')
    assert.equal(db.status, 'FAIL')
    assert.match(db.detail, /file is not a database \(SQLITE_NOTADB\)/)
  })

  test('a missing root marker fails; with --pre-start it warns and exits 0', async () => {
    const config = { source: { path: source, marker: '.syncplane-root' }, targets: [daemon.config] }
    const res = await check(config, { args: ['--json'] })
    const marker = only(report(res), 'marker')
    assert.equal(marker.status, 'FAIL')
    assert.match(marker.detail, /missing: nothing is sent or deleted/)
    assert.equal(res.code, 1)
    const pre = await check(config, { args: ['--json', '--pre-start'] })
    assert.equal(only(report(pre), 'marker').status, 'WARN')
    assert.equal(pre.code, 0)
    await writeFile(path.join(source, '.syncplane-root'), '')
    assert.equal(only(report(await check(config, { args: ['--json'] })), 'marker').status, 'OK')
  })

  test('--pre-start: an unreachable target only warns (exit 0), while a database the service cannot open still fails (exit 1)', async () => {
    const down = { ...stopped.config, passwordEnv: Object.keys(daemon.env)[0] }
    const res = await check({ targets: [daemon.config, down] }, { args: ['--json', '--pre-start'] })
    const r = report(res)
    assert.equal(res.code, 0, res.stdout)
    assert.deepEqual({ status: r.status, preStart: r.preStart }, { status: 'WARN', preStart: true })
    assert.deepEqual(r.checks.filter((c) => c.check === 'target').map((c) => c.status), ['OK', 'WARN'])
    const database = path.join(tmp.path, 'a-directory.db')
    await mkdir(database)
    const broken = await check({ database, targets: [down] }, { args: ['--json', '--pre-start'] })
    assert.equal(broken.code, 1)
    assert.equal(only(report(broken), 'database').status, 'FAIL')
  })

  test('a mesh peer is checked through its rsync URL and its API, this node not at all', async () => {
    const apiPort = await getFreePort()
    const mesh = {
      self: 'here',
      secret: 'a-mesh-secret-of-some-length',
      peers: [
        { name: 'here', api: 'http://127.0.0.1:1', url: `${tmp.path}/here/` },
        { name: 'there', api: `http://127.0.0.1:${apiPort}`, url: daemon.config.url, passwordEnv: Object.keys(daemon.env)[0] },
      ],
    }
    const r = report(await check({ mesh }, { args: ['--json'], env: { SYNCPLANE_MESH_SELF: '', SYNCPLANE_MESH_SECRET: '' } }))
    assert.deepEqual(r.checks.filter((c) => c.check.startsWith('peer')).map((c) => [c.check, c.subject.split(' ')[0], c.status]), [
      ['peer', 'there', 'OK'],
      ['peer-api', 'there', 'FAIL'],
    ])
    assert.match(only(r, 'peer-api').detail, new RegExp(`GET http://127.0.0.1:${apiPort}/healthz: .*ECONNREFUSED`))
  })

  test('an invalid configuration exits 2 naming the key, in the words serve uses', async () => {
    const file = path.join(tmp.path, 'invalid.yaml')
    await writeFile(file, `source: ${source}\ndatabase: ${tmp.path}/a.db\napi: { port: eighty }\ntargets: [{ name: r, url: "ftp://host/x" }]\n`)
    const res = await runCommand(process.execPath, [CLI, 'check', '--config', file], { timeoutMs: 20_000 })
    const serve = await runCommand(process.execPath, [CLI, 'serve', '--config', file], { timeoutMs: 20_000 })
    assert.equal(res.code, 2, res.stderr)
    assert.match(res.stderr, /api\.port: must be integer/)
    assert.equal(res.stderr, serve.stderr)
    assert.equal(serve.code, 2)
    const json = await runCommand(process.execPath, [CLI, 'check', '--config', file, '--json'], { timeoutMs: 20_000 })
    assert.equal(json.code, 2)
    assert.deepEqual(report(json).checks.map((c) => [c.check, c.status]), [['config', 'FAIL']])
  })
})
