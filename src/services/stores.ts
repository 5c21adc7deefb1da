import type { Logger } from 'pino'
import type { Config } from '../config/schema.js'
import { createDatabaseHealth } from '../db/database-health.js'
import { createJobStore } from '../db/job-store.js'
import { migrate } from '../db/migrate.js'
import { openDatabase } from '../db/open.js'
import { createPendingStore } from '../db/pending-store.js'
import { createResilientJobStore } from '../db/resilient-job-store.js'
import { createResilientSettings } from '../db/resilient-settings.js'
import { createSettingsStore } from '../db/settings-store.js'
import { createJournalWriter } from '../sync/journal-writer.js'

/**
 * The database, migrated, and the stores on it. A failing database (a full
 * disk) must not stop replication: every store that writes keeps what it
 * could not write, retries, and reports to `health`.
 */
export function openStores (config: Readonly<Config>, logger: Logger) {
  const db = openDatabase(config.database)
  const migrated = migrate(db)
  if (migrated.from !== migrated.to) logger.info(migrated, 'database migrated')

  const health = createDatabaseHealth({ logger: logger.child({ component: 'database' }) })
  const jobs = createResilientJobStore(createJobStore(db, { pathsPerJob: config.jobs.pathsPerJob }), {
    health,
    logger: logger.child({ component: 'jobs' }),
    pathsPerJob: config.jobs.pathsPerJob,
  })
  const pending = createPendingStore(db)
  const journalWriter = createJournalWriter(pending, { health })
  const settings = createResilientSettings(createSettingsStore(db), { health })
  let closed = false

  return {
    db,
    health,
    jobs,
    pending,
    journalWriter,
    settings,

    /** A last attempt at what a failing database did not take yet, then no more retries. Once; later calls do nothing. */
    close (): void {
      if (closed) return
      closed = true
      // Each one stops its retry timer, whatever the others answer.
      const written = [journalWriter.flush(), jobs.flush(), settings.flush()]
      if (written.includes(false)) logger.warn({ database: health.status().error }, 'the database still fails: what it did not take is lost with this process (the journal is answered by a recovery mirror at the next start)')
      db.close()
    },
  }
}
