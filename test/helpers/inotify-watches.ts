import { lstatSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { watchedInodes } from '../../src/watcher/watched-inodes.js'

/**
 * The directories below `root` (relative, `skip` left out) that no inotify
 * watch of process `pid` covers: where its watcher sees nothing. For a
 * failure's diagnostics.
 */
export function unwatchedDirs (pid: number, root: string, skip: (rel: string) => boolean): string[] {
  const watched = watchedInodes(pid) ?? new Set()
  const out: string[] = []
  const walk = (rel: string): void => {
    const abs = rel === '' ? root : path.join(root, rel)
    try {
      if (!watched.has(lstatSync(abs).ino.toString(16))) out.push(rel)
      for (const e of readdirSync(abs, { withFileTypes: true })) {
        const child = rel === '' ? e.name : `${rel}/${e.name}`
        if (e.isDirectory() && !skip(child)) walk(child)
      }
    } catch {}
  }
  walk('')
  return out
}
