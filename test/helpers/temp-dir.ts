import { chmod, mkdtemp, readdir, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAll, type Teardown } from './teardown.js'

export interface TempDir {
  /** Absolute, symlink-free path of the new directory. */
  path: string
  /**
   * Runs `fn` when the test ends, before the directory is removed, the
   * last registered first: a service stops before the daemon it sends to,
   * and both before the files under them go. node:test runs a test's own
   * after hooks first registered first (nodejs/node#48736), which is why
   * what a test starts in its directory registers here.
   */
  after (fn: () => unknown): void
  /** Runs what after() registered, then removes the directory and everything below it; once (a second call joins the first). */
  cleanup (): Promise<void>
}

/**
 * Creates a fresh directory under os.tmpdir(), removed with everything
 * registered on it when `owner` (the test) ends, however it ends.
 *
 * The path is realpath'ed because on some systems the temp dir is reached
 * through a symlink (macOS /var -> /private/var); watchers, rsync output and
 * the tree helpers report resolved paths, so comparing against an unresolved
 * one would produce false mismatches.
 */
export async function makeTempDir (owner: Teardown, prefix = 'syncplane-'): Promise<TempDir> {
  const path = await realpath(await mkdtemp(join(tmpdir(), prefix)))
  const undo: Array<() => unknown> = []
  let cleaning: Promise<void> | undefined
  const dir: TempDir = {
    path,
    after (fn) {
      undo.push(fn)
    },
    cleanup () {
      cleaning ??= runAll([...[...undo].reverse(), () => remove(path)])
      return cleaning
    },
  }
  owner.after(() => dir.cleanup())
  return dir
}

async function remove (path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 3 })
  } catch (error) {
    // A test may have removed permissions (chmod 000) to provoke errors;
    // as non-root that makes rm fail, so restore access and try again.
    if (!isPermissionError(error)) throw error
    await makeTraversable(path)
    await rm(path, { recursive: true, force: true, maxRetries: 3 })
  }
}

function isPermissionError (error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'EACCES' || code === 'EPERM'
}

async function makeTraversable (dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined)
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    if (entry.isDirectory()) await makeTraversable(join(dir, entry.name))
  }
}
