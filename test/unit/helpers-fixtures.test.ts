import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { pidExists, spawnManaged } from '../helpers/managed-process.js'
import { startRsyncDaemon } from '../helpers/rsync-daemon.js'
import { runCommand } from '../helpers/run-command.js'
import { sshdAvailable, startSshd } from '../helpers/sshd.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { assertTreesEqual, diffTrees, isRsyncTempFile, snapshotTree, waitForTreesEqual } from '../helpers/tree.js'
import { getFreePort } from '../helpers/free-port.js'
import { waitFor } from '../helpers/wait-for.js'

/** File names that break naive shell or line-based handling. */
const HOSTILE_NAMES = [
  'sp ace.txt',
  'new\nline.txt',
  '-leading-dash',
  'ünïcødé-✓.txt',
  'star*.txt',
  'back\\slash.txt',
  'quo\'te"s.txt',
]

/** A fresh temp dir removed after the current test. */
async function tempDir (t: TestContext): Promise<string> {
  return (await makeTempDir(t)).path
}

describe('makeTempDir', () => {
  test('creates a resolved directory under the temp dir and cleanup removes it', async (t) => {
    const dir = await makeTempDir(t, 'helpers-test-')
    assert.ok((await stat(dir.path)).isDirectory())
    assert.match(dir.path, /helpers-test-[^/]+$/)
    assert.ok(dir.path.length > tmpdir().length)
    await writeFile(join(dir.path, 'f'), 'x')
    await dir.cleanup()
    await assert.rejects(stat(dir.path), { code: 'ENOENT' })
    await dir.cleanup() // a second cleanup is harmless
  })

  test('undoes what was registered on it, the last first and each even when one fails, then removes the directory', async () => {
    // The test's end, by hand: the failure this provokes is the one asserted.
    const ends: Array<() => unknown> = []
    const dir = await makeTempDir({ after: (fn) => { ends.push(fn) } })
    const order: string[] = []
    dir.after(() => { order.push(`daemon, directory there: ${existsSync(dir.path)}`) })
    dir.after(() => { order.push('service'); throw new Error('close failed') })
    assert.equal(ends.length, 1)
    await assert.rejects(async () => { await ends[0]!() }, /close failed/)
    assert.deepEqual(order, ['service', 'daemon, directory there: true'])
    assert.equal(existsSync(dir.path), false)
  })

  test('is removed with what was registered on it when its test ends', async (t) => {
    let path = ''
    let undone = false
    await t.test('a test that makes one', async (sub) => {
      const dir = await makeTempDir(sub)
      path = dir.path
      dir.after(() => { undone = true })
    })
    assert.equal(undone, true)
    assert.equal(existsSync(path), false)
  })
})

describe('waitFor', () => {
  test('retries thrown and falsy probes and resolves with the first truthy value', async () => {
    let calls = 0
    const value = await waitFor(() => {
      calls += 1
      if (calls === 1) throw new Error('not ready')
      return calls >= 3 ? { calls } : null
    })
    assert.deepEqual(value, { calls: 3 })
  })

  test('times out with the message and the last probe error', async () => {
    await assert.rejects(
      waitFor(
        () => {
          throw new Error('still booting')
        },
        { timeoutMs: 100, message: 'server never came up' }
      ),
      /server never came up.*timed out after 100 ms.*still booting/s
    )
  })

  test('abandons a probe that never settles at the deadline', async () => {
    const started = Date.now()
    await assert.rejects(waitFor(() => new Promise<boolean>(() => {}), { timeoutMs: 100 }), /timed out/)
    assert.ok(Date.now() - started < 5_000)
  })

  test('getFreePort returns a port that can be bound on 127.0.0.1', async () => {
    const port = await getFreePort()
    assert.ok(port > 0 && port < 65536)
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: '127.0.0.1', port }, resolve)
    })
    await new Promise((resolve) => server.close(resolve))
  })
})

describe('managed process', () => {
  test('counts as exited soon after its exit even when a descendant it left holds its output pipes (a daemon\'s connection child)', { timeout: 10_000 }, async (t) => {
    const proc = await spawnManaged('sh', ['-c', 'sleep 60 & echo $!'])
    // The child and its pipes are unref'd (a process left over never holds the runner): the loop is held here.
    const keepAlive = setInterval(() => undefined, 1_000)
    t.after(() => clearInterval(keepAlive))
    const info = await proc.exited
    assert.equal(info.code, 0)
    assert.equal(proc.isRunning(), false)
    const orphan = Number(proc.output().trim())
    t.after(() => process.kill(orphan, 'SIGKILL'))
    assert.ok(pidExists(orphan), 'the orphan still runs, holding the pipes')
  })
})

describe('rsync daemon fixture', () => {
  test('accepts a password-authenticated push, preserving hostile names and symlinks', async (t) => {
    const tmp = await makeTempDir(t)
    const dir = tmp.path
    const src = join(dir, 'src')
    const dest = join(dir, 'dest')
    await mkdir(join(src, 'sub dir'), { recursive: true })
    for (const name of HOSTILE_NAMES) await writeFile(join(src, 'sub dir', name), `content of ${name}`)
    await writeFile(join(src, 'hello.txt'), 'hello daemon')
    await symlink('hello.txt', join(src, 'link'))
    const daemon = await startRsyncDaemon({ root: join(dir, 'daemon'), modulePath: dest })
    tmp.after(() => daemon.stop())

    assert.equal(daemon.url, `rsync://syncer@127.0.0.1:${daemon.port}/upload/`)
    assert.equal((await stat(join(dir, 'daemon', 'rsyncd.secrets'))).mode & 0o777, 0o600)

    // The password travels in the environment, never on argv.
    const result = await runCommand('rsync', ['-a', `${src}/`, daemon.url], {
      env: { ...process.env, RSYNC_PASSWORD: daemon.password },
    })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await readFile(join(dest, 'hello.txt'), 'utf8'), 'hello daemon')
    // munge symlinks = no: the link arrives verbatim.
    assert.equal(await readlink(join(dest, 'link')), 'hello.txt')
    await assertTreesEqual(src, dest)
  })

  test('rejects a wrong password with exit code 5', async (t) => {
    const tmp = await makeTempDir(t)
    const dir = tmp.path
    await mkdir(join(dir, 'src'))
    await writeFile(join(dir, 'src', 'f.txt'), 'x')
    const daemon = await startRsyncDaemon({ root: join(dir, 'daemon'), modulePath: join(dir, 'dest') })
    tmp.after(() => daemon.stop())

    const result = await runCommand('rsync', ['-a', `${join(dir, 'src')}/`, daemon.url], {
      env: { ...process.env, RSYNC_PASSWORD: `${daemon.password}-wrong` },
    })
    assert.equal(result.code, 5, result.stderr)
    assert.match(result.stderr, /auth failed/)
    await assert.rejects(stat(join(dir, 'dest', 'f.txt')), { code: 'ENOENT' })
  })

  test('pause stalls clients until resume; restart keeps the port; stop ends the process', async (t) => {
    const tmp = await makeTempDir(t)
    const dir = tmp.path
    const src = join(dir, 'src')
    const dest = join(dir, 'dest')
    await mkdir(src)
    await writeFile(join(src, 'a.txt'), 'a')
    const daemon = await startRsyncDaemon({ root: join(dir, 'daemon'), modulePath: dest })
    tmp.after(() => daemon.stop())
    const push = (extra: string[] = []) =>
      runCommand('rsync', ['-a', ...extra, `${src}/`, daemon.url], {
        env: { ...process.env, RSYNC_PASSWORD: daemon.password },
      })

    daemon.pause()
    // The kernel still completes the TCP handshake, so only the I/O
    // timeout fires (exit 30), not the connect timeout.
    const stalled = await push(['--contimeout=1', '--timeout=1'])
    assert.notEqual(stalled.code, 0)
    assert.equal(stalled.code, 30, stalled.stderr)
    daemon.resume()
    assert.equal((await push()).code, 0)

    const { port, pid } = daemon
    await daemon.restart()
    assert.equal(daemon.port, port)
    assert.notEqual(daemon.pid, pid)
    assert.equal(pidExists(pid), false)
    await writeFile(join(src, 'b.txt'), 'b')
    const afterRestart = await push()
    assert.equal(afterRestart.code, 0, afterRestart.stderr)
    await assertTreesEqual(src, dest)

    const lastPid = daemon.pid
    await daemon.stop()
    assert.equal(pidExists(lastPid), false)
    assert.equal((await push(['--contimeout=2'])).code, 10) // connection refused
    await daemon.stop() // idempotent
  })
})

describe('sshd fixture', { skip: sshdAvailable() ? false : 'openssh-server (/usr/sbin/sshd) or ssh-keygen missing' }, () => {
  test('accepts a key-authenticated rsync push over ssh with strict host key checking', async (t) => {
    const tmp = await makeTempDir(t)
    const dir = tmp.path
    const src = join(dir, 'src')
    const dest = join(dir, 'dest')
    await mkdir(src)
    await mkdir(dest)
    await writeFile(join(src, 'over-ssh.txt'), 'via ssh')
    await writeFile(join(src, 'sp ace.txt'), 'spaced')
    const sshd = await startSshd({ root: join(dir, 'sshd') })
    tmp.after(() => sshd.stop())

    assert.equal((await lstat(sshd.identityFile)).mode & 0o777, 0o600)
    const known = await readFile(sshd.knownHostsFile, 'utf8')
    assert.match(known, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `))

    const rsh = `ssh -p ${sshd.port} -i ${sshd.identityFile} -o BatchMode=yes -o UserKnownHostsFile=${sshd.knownHostsFile} -o StrictHostKeyChecking=yes`
    const result = await runCommand('rsync', ['-a', '-e', rsh, `${src}/`, `${sshd.user}@127.0.0.1:${dest}/`])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(await readFile(join(dest, 'over-ssh.txt'), 'utf8'), 'via ssh')
    await assertTreesEqual(src, dest)

    // The prebuilt rshCommand works the same way.
    await writeFile(join(src, 'second.txt'), '2')
    const again = await runCommand('rsync', ['-a', '-e', sshd.rshCommand, `${src}/`, `${sshd.user}@127.0.0.1:${dest}/`])
    assert.equal(again.code, 0, again.stderr)
    await assertTreesEqual(src, dest)
  })

  test('rejects a host whose key is not in known_hosts', async (t) => {
    const tmp = await makeTempDir(t)
    const dir = tmp.path
    const sshd = await startSshd({ root: join(dir, 'sshd') })
    tmp.after(() => sshd.stop())
    await writeFile(sshd.knownHostsFile, '')
    const result = await runCommand('ssh', [...sshd.sshArgs, `${sshd.user}@127.0.0.1`, 'true'])
    assert.equal(result.code, 255)
    assert.match(result.stderr, /Host key verification failed/)
  })
})

describe('tree helpers', () => {
  /** Two identical trees with a dir, a symlink and hostile names. */
  async function twinTrees (t: TestContext): Promise<[string, string]> {
    const dir = await tempDir(t)
    const roots: [string, string] = [join(dir, 'a'), join(dir, 'b')]
    for (const root of roots) {
      await mkdir(join(root, 'dir', 'nested'), { recursive: true })
      await writeFile(join(root, 'dir', 'nested', 'file.txt'), 'abc')
      await symlink('dir/nested/file.txt', join(root, 'link'))
      for (const name of HOSTILE_NAMES) await writeFile(join(root, name), name)
    }
    return roots
  }

  test('snapshotTree records types, sizes, hashes and raw link targets under posix relative keys', async (t) => {
    const [a] = await twinTrees(t)
    const snap = await snapshotTree(a)
    assert.deepEqual(snap.get('dir'), { type: 'dir' })
    assert.deepEqual(snap.get('dir/nested/file.txt'), {
      type: 'file',
      size: 3,
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    })
    assert.deepEqual(snap.get('link'), { type: 'symlink', linkTarget: 'dir/nested/file.txt' })
    for (const name of HOSTILE_NAMES) assert.equal(snap.get(name)?.type, 'file', name)
    assert.equal(snap.has('new\nline.txt'), true)
    assert.deepEqual(await diffTrees(a, a), [])
  })

  test('identical trees have no differences', async (t) => {
    const [a, b] = await twinTrees(t)
    assert.deepEqual(await diffTrees(a, b), [])
    await assertTreesEqual(a, b)
  })

  test('detects a content change that keeps the size', async (t) => {
    const [a, b] = await twinTrees(t)
    await writeFile(join(b, 'dir', 'nested', 'file.txt'), 'abd')
    const diffs = await diffTrees(a, b)
    assert.equal(diffs.length, 1)
    assert.match(diffs[0] ?? '', /^content mismatch: "dir\/nested\/file.txt"/)
  })

  test('reports a missing directory and everything in it, and extra entries', async (t) => {
    const [a, b] = await twinTrees(t)
    await runCommand('rm', ['-rf', join(b, 'dir')])
    await writeFile(join(b, 'extra.txt'), 'x')
    assert.deepEqual(await diffTrees(a, b), [
      'missing on b: "dir" (dir)',
      'missing on b: "dir/nested" (dir)',
      'missing on b: "dir/nested/file.txt" (file)',
      'extra on b: "extra.txt" (file)',
    ])
  })

  test('compares symlink targets without following them', async (t) => {
    const [a, b] = await twinTrees(t)
    await runCommand('rm', [join(b, 'link')])
    await symlink('dir/nested', join(b, 'link')) // now points at a directory
    assert.deepEqual(await diffTrees(a, b), [
      'symlink target mismatch: "link" a="dir/nested/file.txt" b="dir/nested"',
    ])
  })

  test('handles a file whose name contains a newline', async (t) => {
    const [a, b] = await twinTrees(t)
    await writeFile(join(b, 'new\nline.txt'), 'changed!!!!!!!!')
    await runCommand('rm', [join(b, 'quo\'te"s.txt')])
    assert.deepEqual(await diffTrees(a, b), [
      'size mismatch: "new\\nline.txt" a=12 b=15',
      'missing on b: "quo\'te\\"s.txt" (file)',
    ])
  })

  test('reports a type change and honours ignore, including whole directories', async (t) => {
    const [a, b] = await twinTrees(t)
    await runCommand('rm', [join(b, 'sp ace.txt')])
    await mkdir(join(b, 'sp ace.txt'))
    await writeFile(join(b, '.hello.txt.Ab12Cd'), 'rsync temp')
    assert.deepEqual(await diffTrees(a, b), [
      'extra on b: ".hello.txt.Ab12Cd" (file)',
      'type mismatch: "sp ace.txt" a=file b=dir',
    ])
    const ignore = (rel: string) => rel === 'sp ace.txt' || rel === 'dir' || isRsyncTempFile(rel)
    await runCommand('rm', ['-rf', join(b, 'dir')])
    assert.deepEqual(await diffTrees(a, b, { ignore }), [])
  })

  test('assertTreesEqual throws an AssertionError listing at most 20 differences', async (t) => {
    const [a, b] = await twinTrees(t)
    for (let i = 0; i < 25; i += 1) await writeFile(join(b, `extra-${String(i).padStart(2, '0')}`), '')
    await assert.rejects(assertTreesEqual(a, b), (error: unknown) => {
      assert.equal((error as Error).name, 'AssertionError')
      const message = (error as Error).message
      assert.match(message, /extra on b: "extra-19"/)
      assert.doesNotMatch(message, /extra-20/)
      assert.match(message, /and 5 more/)
      return true
    })
  })

  test('waitForTreesEqual resolves once the trees converge', async (t) => {
    const [a, b] = await twinTrees(t)
    await writeFile(join(b, 'dir', 'nested', 'file.txt'), 'stale')
    // Fix the tree only after waitForTreesEqual has compared a few times
    // (each comparison visits 'dir' once per tree), so the polling is real.
    let visits = 0
    let fixer: Promise<void> | undefined
    const ignore = (rel: string): boolean => {
      if (rel === 'dir' && ++visits === 6) fixer = writeFile(join(b, 'dir', 'nested', 'file.txt'), 'abc')
      return false
    }
    await waitForTreesEqual(a, b, { timeoutMs: 5_000, ignore })
    assert.ok(visits >= 6, `expected at least three comparisons, saw ${visits} visits`)
    await fixer
  })

  test('waitForTreesEqual times out listing the remaining differences', async (t) => {
    const [a, b] = await twinTrees(t)
    await runCommand('rm', [join(b, 'link')])
    await assert.rejects(
      waitForTreesEqual(a, b, { timeoutMs: 150 }),
      /trees did not become equal.*missing on b: "link" \(symlink\)/s
    )
  })
})
