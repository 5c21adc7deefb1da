import { inspectDatabase } from '../db/inspect.js'
import { result, type CheckResult } from './result.js'

/** Whether the service could open, migrate and write its database; nothing is created or migrated here. */
export function checkDatabase (file: string, migrationsDir?: string): CheckResult {
  const { ok, fail } = result('database', file)
  const found = inspectDatabase(file, migrationsDir)
  if (!found.ok) return fail(found.problem)
  if (!found.exists) return ok(`does not exist yet; created at start in ${found.createdIn} (writable)`)
  const pending = found.latest - found.version
  return ok(`SQLite, writable, schema version ${found.version}${pending > 0 ? `; ${pending} migration${pending === 1 ? '' : 's'} applied at start` : ''}`)
}
