import { readdirSync, renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import { freshName, meshDir } from './tree-fs.js'

/**
 * syncplane's own directories at the top of a mesh node's tree: staged
 * batches a crash left are dropped (their senders still owe them and send
 * them again), and the trash keeps what a peer deleted or replaced for
 * `trashDays`. Displaced files a stop left are not touched here: they are
 * held again until settled (displaced-watch.ts).
 */
export function tidyMeshDirs (root: string, now: number, trashDays: number, { keepStaging = false } = {}): void {
  // Peers may already be pushing a new batch into it (their rsync reaches the daemon, which can be up before this
  // process): removed in place, a file they add meanwhile fails the removal (ENOTEMPTY) and with it the start.
  // Moved aside in one rename instead, and removed as far as it goes; what a peer still writes there is trash.
  if (!keepStaging) moveStagingAside(root)
  emptyTrash(root, now, trashDays)
}

function moveStagingAside (root: string): void {
  const aside = freshName(meshDir(root, 'trash'), 'staging')
  try {
    renameSync(meshDir(root, 'staging'), aside)
    rmSync(aside, { recursive: true, force: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
  }
}

/**
 * Removes trash entries older than `trashDays`, by the time they were
 * trashed: it leads their name (see freshName), since a rename keeps the
 * file's own mtime, which may be years old.
 */
export function emptyTrash (root: string, now: number, trashDays: number): void {
  const trash = meshDir(root, 'trash')
  const cutoff = now - trashDays * 86_400_000
  for (const name of list(trash)) {
    const trashedAt = Number(/^(\d+)-/.exec(name)?.[1] ?? 0)
    if (trashedAt < cutoff) rmSync(path.join(trash, name), { recursive: true, force: true })
  }
}

function list (dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}
