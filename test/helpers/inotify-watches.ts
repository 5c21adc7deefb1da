import path from 'node:path'
import { lostWatches } from '../../src/watcher/watch-audit.js'
import { watchedInodes } from '../../src/watcher/watched-inodes.js'

/**
 * The directories below `root` (relative, outermost only, `skip` left out)
 * that no inotify watch of process `pid` covers: where its watcher sees
 * nothing. For a failure's diagnostics.
 */
export function unwatchedDirs (pid: number, root: string, skip: (rel: string) => boolean): string[] {
  const lost = lostWatches(root, [{ dir: '', deep: true }], (abs) => skip(path.relative(root, abs)), watchedInodes(pid)) ?? []
  return lost.map((abs) => path.relative(root, abs))
}
