import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { chmod, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { skipReason, startTarget, type TestTarget } from '../helpers/targets.js'
import { jobsOf } from '../helpers/stores.js'

const logins = (target: TestTarget): number => target.sshd!.output().split('\n').filter((l) => l.includes('Accepted publickey')).length
const logouts = (target: TestTarget): number => target.sshd!.output().split('\n').filter((l) => /Disconnected from user|Connection closed by authenticating user/.test(l)).length
const controlDirs = (tmp: TempDir): string[] => readdirSync(tmp.path).filter((n) => n.startsWith('syncplane-ssh-'))

const jobRows = (sp: SyncplaneHarness) => jobsOf(sp.services.jobs)

/** Each file in its own run: written, then waited for on the target. */
async function uploadOneByOne (sp: SyncplaneHarness, target: TestTarget, names: string[]): Promise<void> {
  for (const name of names) {
    const runs = jobRows(sp).length
    await writeFile(path.join(sp.source, name), `${name}\n`)
    await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 15_000 })
    await waitFor(() => jobRows(sp).length > runs && jobRows(sp).every((j) => j.status !== 'running'), { message: `the run for ${name} finished` })
  }
}

/** The pid of the master listening on a control socket, as `ssh -O check` reports it (on stderr). */
function masterPid (socket: string): number {
  const check = spawnSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${socket}`, '-O', 'check', 'x'], { encoding: 'utf8' })
  return Number(/pid=(\d+)/.exec(check.stderr)?.[1] ?? NaN)
}

describe('SSH connection sharing', { skip: skipReason('ssh') }, () => {
  test('runs to an SSH target share one login, and stopping the service logs it out', async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'ssh', 'web3')
    const helperLogins = logins(target)
    const sp = await startSyncplane(tmp, { targets: [target.config], sshControlParent: tmp.path })
    if (controlDirs(tmp).length === 0) {
      t.skip(`no room for a control socket under ${tmp.path} (see the log)`)
      return
    }
    await waitFor(() => jobRows(sp).some((j) => j.kind === 'full' && j.status === 'succeeded'), { message: 'the start-up mirror' })
    await uploadOneByOne(sp, target, ['one.txt', 'two words.txt', '-three.txt'])
    assert.ok(jobRows(sp).length >= 4, 'a mirror and three incremental runs')
    assert.equal(logins(target) - helperLogins, 1, target.sshd!.output())
    assert.equal(controlDirs(tmp).length, 1)

    await sp.close()
    await waitFor(() => logouts(target) - helperLogins === 1, { message: 'the shared connection is closed', timeoutMs: 10_000 })
    assert.deepEqual(controlDirs(tmp), [], 'the control socket directory is removed')
  })

  test('with controlPersistSec 0 every run logs in anew', async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'ssh', 'web3')
    const helperLogins = logins(target)
    const config = { ...target.config, ssh: { ...(target.config.ssh as object), controlPersistSec: 0 } }
    const sp = await startSyncplane(tmp, { targets: [config], sshControlParent: tmp.path, config: { fullSync: { onStart: false } } })
    await uploadOneByOne(sp, target, ['one.txt', 'two.txt', 'three.txt'])
    assert.equal(logins(target) - helperLogins, jobRows(sp).length)
    assert.deepEqual(controlDirs(tmp), [], 'no control socket directory without sharing')
  })

  test('a wedged shared connection is dropped after the run through it fails, and the next run logs in anew', async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'ssh', 'web3')
    const helperLogins = logins(target)
    const sp = await startSyncplane(tmp, {
      targets: [target.config],
      sshControlParent: tmp.path,
      config: { fullSync: { onStart: false }, rsync: { ioTimeoutSec: 3, deadlineSec: 8, killGraceSec: 1 }, retry: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0 } },
    })
    // Assigned below, read by the teardown registered now: a stopped master would hold the service's close.
    // eslint-disable-next-line prefer-const
    let stopped: number | undefined
    tmp.after(() => { if (stopped !== undefined) process.kill(stopped, 'SIGCONT') })
    await uploadOneByOne(sp, target, ['before.txt'])
    const dir = path.join(tmp.path, controlDirs(tmp)[0]!)
    const socket = path.join(dir, readdirSync(dir).find((n) => !n.includes('.'))!)
    stopped = masterPid(socket)
    assert.ok(Number.isInteger(stopped), `a master listens on ${socket}`)
    process.kill(stopped, 'SIGSTOP')

    await writeFile(path.join(sp.source, 'after.txt'), 'after\n')
    await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 20_000 })
    const runs = await waitFor(() => {
      const rows = jobRows(sp)
      return rows.at(-1)!.status === 'succeeded' ? rows : undefined
    }, { message: 'the retry succeeds' })
    const failed = runs.find((j) => j.status === 'failed')
    // rsync's own --timeout (30), or the run's deadline on a slow machine.
    assert.ok(failed !== undefined && (failed.exitCode === 30 || failed.exitCode === null), `a run through the wedged master failed: ${JSON.stringify(runs)}`)
    assert.ok(logins(target) - helperLogins >= 2, 'a new login after the failed run')
    assert.ok(sp.logs.some((l) => l.includes('the next run opens a new one')))
  })

  test('a remote rsync that hangs ends the run at rsync\'s timeout, though the shared connection holds its pipes', async (t) => {
    const tmp = await makeTempDir(t)
    const target = await startTarget(tmp, 'ssh', 'web3')
    const hang = path.join(tmp.path, 'hang')
    // The remote side: rsync, or a process that never answers while `hang` exists.
    const remote = path.join(tmp.path, 'remote-rsync')
    await writeFile(remote, `#!/bin/sh\nif [ -e '${hang}' ]; then exec sleep 40; fi\nexec rsync "$@"\n`)
    await chmod(remote, 0o755)
    const sp = await startSyncplane(tmp, {
      targets: [target.config],
      sshControlParent: tmp.path,
      config: { fullSync: { onStart: false }, rsync: { ioTimeoutSec: 2, deadlineSec: 30, killGraceSec: 1, extraArgs: [`--rsync-path=${remote}`] }, retry: { initialDelayMs: 100, maxDelayMs: 400, jitter: 0 } },
    })
    await uploadOneByOne(sp, target, ['before.txt'])
    await writeFile(hang, '')
    await writeFile(path.join(sp.source, 'after.txt'), 'after\n')
    const failed = await waitFor(() => jobsOf(sp.services.jobs, { status: 'failed' })[0],
      { message: 'the run against the hung remote fails', timeoutMs: 30_000 })
    assert.equal(failed.exitCode, 30)
    assert.ok(failed.durationMs! < 10_000, `ended ${failed.durationMs} ms after it started, by rsync's 2 s timeout, not the remote's 40 s or the 30 s deadline`)
    await rm(hang)
    await waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 20_000 })
  })
})
