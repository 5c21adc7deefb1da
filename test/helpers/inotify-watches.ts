import path from 'node:path'
import { createWatchAudit } from '../../src/watcher/watch-audit.js'
import { watchedInodes } from '../../src/watcher/watched-inodes.js'

/**
 * The directories below `root` (relative, outermost only, `skip` left out)
 * that no inotify watch of process `pid` covers: where its watcher sees
 * nothing. For a failure's diagnostics.
 */
export async function unwatchedDirs (pid: number, root: string, skip: (rel: string) => boolean): Promise<string[]> {
  const watched = await watchedInodes(pid)
  if (watched === null) return []
  const audit = createWatchAudit(root, [{ dir: '', deep: true }], (abs) => skip(path.relative(root, abs)), watched)
  audit.step(Infinity)
  const lost = audit.settle(watched)
  return lost.map((abs) => path.relative(root, abs))
}
