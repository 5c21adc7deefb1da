import { chmod, mkdtemp, readdir, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempDir {
  /** Absolute, symlink-free path of the new directory. */
  path: string;
  /** Removes the directory and everything below it; safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * Creates a fresh directory under os.tmpdir().
 *
 * The path is realpath'ed because on some systems the temp dir is reached
 * through a symlink (macOS /var -> /private/var); watchers, rsync output and
 * the tree helpers report resolved paths, so comparing against an unresolved
 * one would produce false mismatches.
 */
export async function makeTempDir (prefix = 'syncplane-'): Promise<TempDir> {
  const path = await realpath(await mkdtemp(join(tmpdir(), prefix)))
  return {
    path,
    async cleanup (): Promise<void> {
      try {
        await rm(path, { recursive: true, force: true, maxRetries: 3 })
      } catch (error) {
        // A test may have removed permissions (chmod 000) to provoke errors;
        // as non-root that makes rm fail, so restore access and try again.
        if (!isPermissionError(error)) throw error
        await makeTraversable(path)
        await rm(path, { recursive: true, force: true, maxRetries: 3 })
      }
    },
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
