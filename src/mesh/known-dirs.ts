import { lookAt, type Entry } from './tree-fs.js'

/**
 * The directories one slice of a peer's batch found to be real directories
 * on the way to its entries, so each is looked at once per slice rather than
 * once per entry below it: the five levels of the staging directory and the
 * tree's parents were most of a receiver's lstat calls in a burst. Only this
 * thread changes the tree's directories while a slice runs (told here with
 * `made` and `removed`); a local process swapping a directory for a symlink
 * meanwhile meets the race the check always had between its lstat and the link.
 */
export interface KnownDirs {
  /** What is at `abs`, a directory from memory when one was seen there. */
  look: (abs: string) => Entry
  /** Whether `abs` is known to be a directory (without looking). */
  has: (abs: string) => boolean
  made: (abs: string) => void
  /** `abs` and everything below it are no longer known. */
  removed: (abs: string) => void
}

export function createKnownDirs (): KnownDirs {
  const dirs = new Set<string>()
  return {
    look (abs) {
      if (dirs.has(abs)) return { type: 'dir' }
      const seen = lookAt(abs)
      if (seen?.type === 'dir') dirs.add(abs)
      return seen
    },
    has: (abs) => dirs.has(abs),
    made (abs) {
      dirs.add(abs)
    },
    removed (abs) {
      for (const dir of dirs) if (dir === abs || dir.startsWith(`${abs}/`)) dirs.delete(dir)
    },
  }
}
