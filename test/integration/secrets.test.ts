import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startRsyncDaemon } from '../helpers/rsync-daemon.js'
import { jobsOf } from '../helpers/stores.js'

/** Every process's argv, as the process list shows it. */
function allCommandLines (): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      out.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '))
    } catch {
      // The process exited meanwhile.
    }
  }
  return out
}

test('a password never appears in process arguments, logs, job rows or the database file', async (t) => {
  const tmp = await makeTempDir(t)
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`
  const replica = path.join(tmp.path, 'replica')
  const daemon = await startRsyncDaemon({ root: path.join(tmp.path, 'daemon'), modulePath: replica, password })
  tmp.after(() => daemon.stop())
  const passwordFile = path.join(tmp.path, 'web2.pass')
  await writeFile(passwordFile, `${password}\n`)
  await chmod(passwordFile, 0o600)
  const sp = await startSyncplane(tmp, {
    targets: [
      { name: 'good', url: daemon.url, passwordFile },
      // Same password, wrong module: its failures must not leak the password either.
      { name: 'bad-module', url: daemon.url.replace(/\/upload\/$/, '/nosuchmodule/'), passwordFile },
    ],
    config: { retry: { initialDelayMs: 50, maxDelayMs: 200 } },
  })

  const seen: string[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      seen.push(...allCommandLines().filter((c) => c.includes('rsync')))
      await new Promise((resolve) => setImmediate(resolve))
    }
  })()

  await mkdir(path.join(sp.source, 'd'))
  for (let i = 0; i < 200; i++) await writeFile(path.join(sp.source, 'd', `f${i}`), 'x'.repeat(i))
  await waitForTreesEqual(sp.source, replica, { ignore: isRsyncTempFile, timeoutMs: 20_000 })
  await waitFor(() => jobsOf(sp.services.jobs, { target: 'bad-module', status: 'failed' }).length > 0, { message: 'a failing run on the bad module' })
  sampling = false
  await sampler

  assert.ok(seen.some((c) => c.includes('--files-from')), 'the sampler saw rsync runs')
  assert.deepEqual(seen.filter((c) => c.includes(password)), [], 'password in a command line')
  assert.deepEqual(sp.logs.filter((l) => l.includes(password)), [], 'password in the logs')
  const rows = JSON.stringify(jobsOf(sp.services.jobs))
  assert.ok(rows.includes('auth failed') || rows.includes('Unknown module') || rows.includes('unknown module'), rows.slice(0, 500))
  assert.ok(!rows.includes(password), 'password in a job row')
  const status = await sp.app.inject({ url: '/v1/status' })
  assert.ok(!status.body.includes(password), 'password in /v1/status')

  // The bytes on disk, whichever of the two files SQLite keeps them in.
  for (const file of ['syncplane.db', 'syncplane.db-wal']) {
    const bytes = existsSync(path.join(tmp.path, file)) ? readFileSync(path.join(tmp.path, file)) : Buffer.alloc(0)
    assert.equal(bytes.includes(Buffer.from(password)), false, `password in ${file}`)
  }
})
