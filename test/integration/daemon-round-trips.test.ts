import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'
import { jobsOf } from '../helpers/stores.js'
import { createExecaRunner, type RsyncRunner } from '../../src/rsync/runner.js'
import { SMALL_RUN_MAX_BYTES } from '../../src/sync/batch-plan.js'

for (const moduleOptions of [[], ['timeout = 600']]) {
  describe(`a daemon target${moduleOptions.length > 0 ? ' whose module sets a timeout' : ''}`, () => {
    test('a small change goes without the daemon timeout that stalls it 40 ms; a large one keeps the daemon\'s keepalives', async (t) => {
      const tmp = await makeTempDir(t)
      const target = await startTarget(tmp, 'daemon', 'web2', { moduleOptions })
      const real = createExecaRunner({ binary: 'rsync', baseEnv: process.env })
      const incremental: Array<readonly string[]> = []
      const runner: RsyncRunner = {
        run (invocation) {
          if (invocation.args.includes('--files-from=-')) incremental.push(invocation.args)
          return real.run(invocation)
        },
      }
      const sp = await startSyncplane(tmp, { targets: [target.config], env: target.env, runner })
      await waitFor(() => jobsOf(sp.services.jobs, { kind: 'full', status: 'succeeded' }).length > 0, { message: 'the startup mirror finishes' })

      await writeFile(path.join(sp.source, 'avatar 1.png'), Buffer.alloc(4096, 1))
      await waitFor(async () => (await readFile(path.join(target.dir, 'avatar 1.png')).catch(() => Buffer.alloc(0))).length === 4096, { message: 'the small file arrives' })
      const small = incremental.at(-1)!
      assert.ok(small.includes('-M--timeout=0') && small.includes('--sockopts=TCP_NODELAY') && small.includes('--timeout=30'), small.join(' '))

      const size = SMALL_RUN_MAX_BYTES * 4
      await writeFile(path.join(sp.source, 'video.mp4'), Buffer.alloc(size, 2))
      await waitFor(async () => (await readFile(path.join(target.dir, 'video.mp4')).catch(() => Buffer.alloc(0))).length === size, { message: 'the large file arrives' })
      const large = incremental.at(-1)!
      assert.ok(!large.includes('-M--timeout=0') && large.includes('--sockopts=TCP_NODELAY'), large.join(' '))
    })
  })
}
