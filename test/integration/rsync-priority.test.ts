import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { getPriority } from 'node:os'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { createExecaRunner } from '../../src/rsync/runner.js'
import { readAutogroupNice } from '../../src/priority.js'

test('rsync runs the configured amount nicer than the service, its autogroup included', async (t) => {
  const tmp = await makeTempDir(t)
  const pidFile = path.join(tmp.path, 'pid')
  const go = path.join(tmp.path, 'go')
  // Stands in for rsync: says who it is, then holds until the test has looked.
  const binary = path.join(tmp.path, 'rsync-held')
  await writeFile(binary, `#!/bin/sh\necho $$ > '${pidFile}'\nwhile [ ! -e '${go}' ]; do sleep 0.01; done\nexec rsync "$@"\n`)
  await chmod(binary, 0o755)

  const runner = createExecaRunner({ binary, baseEnv: process.env, nice: 7 })
  const run = runner.run({ args: ['--version'], deadlineMs: 30_000, killGraceMs: 1_000 })
  const pid = await waitFor(async () => Number(await readFile(pidFile, 'utf8')) || undefined, { message: 'the run started' })
  await waitFor(() => getPriority(pid) === Math.min(19, getPriority() + 7), { message: `rsync (pid ${pid}) 7 nicer than this process` })
  // rsync has a session, so an autogroup, of its own: that group is what the kernel weighs against the service.
  const own = readAutogroupNice('self')
  if (own !== undefined) {
    await waitFor(() => readAutogroupNice(pid) === Math.min(19, own + 7), { message: `rsync's autogroup (pid ${pid}) 7 nicer than this process's` })
  }
  await writeFile(go, '')
  const outcome = await run
  assert.equal(outcome.exitCode, 0)
  assert.match(outcome.stdout, /rsync\s+version/)
})
