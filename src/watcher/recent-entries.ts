import path from 'node:path'

/**
 * New entries queued for a look in the last 2 to 4 s, with when, so each
 * is looked at once; and deletions over the same span. An entry made
 * again after it or a directory above it went away (`mv` reports only the
 * top of a tree) is new again and is looked at again.
 *
 * `rootPrefix`: the watched root with a trailing separator; the entries
 * are absolute paths under it.
 */
export function createRecentEntries (rootPrefix: string) {
  let queuedRecently = new Map<string, number>()
  let queuedBefore = new Map<string, number>()
  let deletedRecently = new Map<string, number>()
  let deletedBefore = new Map<string, number>()
  let rotatedAt = Date.now()

  const rotate = (at: number): void => {
    if (at - rotatedAt <= 2_000) return
    queuedBefore = queuedRecently
    queuedRecently = new Map()
    deletedBefore = deletedRecently
    deletedRecently = new Map()
    rotatedAt = at
  }

  const deletedSince = (abs: string, since: number): boolean => {
    for (let p = abs; p.length > rootPrefix.length; p = path.dirname(p)) {
      if ((deletedRecently.get(p) ?? deletedBefore.get(p) ?? -1) >= since) return true
    }
    return false
  }

  return {
    /** `abs` was created or updated: true when it is to be looked at (not queued lately, or made again since). */
    firstReport (abs: string): boolean {
      const at = Date.now()
      rotate(at)
      const queuedAt = queuedRecently.get(abs) ?? queuedBefore.get(abs)
      if (queuedAt !== undefined && !deletedSince(abs, queuedAt)) return false
      queuedRecently.set(abs, at)
      return true
    },

    /** `abs` was deleted: what is made there from now on is new. */
    forget (abs: string): void {
      const at = Date.now()
      rotate(at)
      deletedRecently.set(abs, at)
    },
  }
}
