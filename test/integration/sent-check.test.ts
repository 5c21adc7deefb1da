import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { parseConfig } from '../../src/config/load.js'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createJobStore } from '../../src/db/job-store.js'
import { createPendingStore } from '../../src/db/pending-store.js'
import { createSettingsStore } from '../../src/db/settings-store.js'
import { createExecaRunner } from '../../src/rsync/runner.js'
import { createSyncEngine } from '../../src/sync/engine.js'
import { resolveTargets } from '../../src/sync/targets.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { startTarget } from '../helpers/targets.js'
import { waitFor } from '../helpers/wait-for.js'

// No watcher at all here: it stands for one that coalesced a short-lived
// file's create and delete into nothing (as @parcel/watcher does within a batch).
test('a short-lived file a mirror copied, never reported by the watcher, is deleted from the target', async (t) => {
  const tmp = await makeTempDir(t)
  const source = path.join(tmp.path, 'source')
  await mkdir(source)
  const { dir: replica, config: target } = await startTarget(tmp, 'local', 'backup')
  const { config, secrets } = parseConfig({ source, database: path.join(tmp.path, 'sp.db'), targets: [target] }, { env: {}, baseDir: tmp.path, origin: 'test' })
  const db = openDatabase(config.database)
  migrate(db)
  const jobs = createJobStore(db, { pathsPerJob: config.jobs.pathsPerJob })
  const engine = createSyncEngine({
    options: { source, excludes: [], batch: config.batch, rsync: config.rsync, fullSync: config.fullSync, retry: config.retry, deletes: config.deletes },
    targets: resolveTargets(config, secrets),
    jobs,
    pending: createPendingStore(db),
    settings: createSettingsStore(db),
    runner: createExecaRunner({ binary: 'rsync', baseEnv: process.env }),
    logger: pino({ level: 'silent' }),
    watcherStatus: () => ({ state: 'running', lastError: null }),
  })
  tmp.after(async () => {
    await engine.close()
    db.close()
  })
  engine.start()

  await writeFile(path.join(source, 'upload.part'), 'half an upload')
  await mkdir(path.join(source, 'tmpdir', 'inner'), { recursive: true })
  await writeFile(path.join(source, 'keep.txt'), 'stays')
  const [mirror] = engine.requestFullSync({ trigger: 'api' })
  await engine.waitForJobs([mirror!.id])
  assert.ok(existsSync(path.join(replica, 'upload.part')), 'the mirror copied the short-lived file')
  await rm(path.join(source, 'upload.part'))
  await rm(path.join(source, 'tmpdir'), { recursive: true })

  await waitFor(() => !existsSync(path.join(replica, 'upload.part')) && !existsSync(path.join(replica, 'tmpdir')), { message: 'the short-lived entries are deleted from the target' })
  assert.ok(existsSync(path.join(replica, 'keep.txt')))
})
