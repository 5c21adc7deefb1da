import { readdirSync, readlinkSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

/**
 * The inodes every inotify instance of a process (this one by default) watches, in hex as
 * /proc prints them (`inotify wd:… ino:…` in fdinfo); null where /proc
 * cannot tell. Several inotify instances (parcel's, libuv's) all count: a
 * directory any of them watches is watched.
 *
 * Read off the event loop: the kernel writes about 125 bytes a watch, and
 * at 20,000 watched directories the read takes some 60 ms.
 */
export async function watchedInodes (pid: number | 'self' = 'self'): Promise<Set<string> | null> {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return null
  }
  const out = new Set<string>()
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:inotify') continue
      for (const m of (await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8')).matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) out.add(m[1]!)
    } catch {
      // Closed since the listing.
    }
  }
  return out
}
