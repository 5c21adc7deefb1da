import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import type { CheckResult, Verdict } from './result.js'

/**
 * A local target or peer: a directory rsync can write, or a missing one
 * whose parent is (rsync makes only the last directory of a destination).
 */
export function checkLocalPath (dir: string, verdict: Verdict): CheckResult {
  const target = path.resolve(dir)
  const found = writableDirectory(target)
  if (found === 'writable') return verdict.ok(`${target}: writable directory`)
  if (found !== 'missing') return verdict.fail(`${target}: ${found}`)
  const parent = path.dirname(target)
  const above = writableDirectory(parent)
  if (above === 'writable') return verdict.ok(`${target}: does not exist yet; the first run creates it in ${parent} (writable)`)
  if (above === 'missing') return verdict.fail(`${target}: neither it nor ${parent} exists, and rsync creates only the last directory of a destination`)
  return verdict.fail(`${target} does not exist, and cannot be created: ${parent}: ${above}`)
}

/** 'writable', 'missing', or what is wrong. */
function writableDirectory (dir: string): string {
  try {
    if (!statSync(dir).isDirectory()) return 'not a directory'
  } catch (err) {
    // ENOTDIR: a file where a directory of the path should be.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message
  }
  try {
    // access(2) answers EROFS for a read-only mount, even to root.
    accessSync(dir, constants.W_OK | constants.X_OK)
    return 'writable'
  } catch (err) {
    return `not writable: ${(err as Error).message}`
  }
}
