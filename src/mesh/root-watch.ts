import { statSync } from 'node:fs'

/**
 * The source guard's verdict, made immediate for the mesh. The guard looks
 * every half second, so for a moment after an unmount its verdict is
 * stale: another directory at the root (device and inode) than the one the
 * mesh last saw without a fault counts as a fault at once, until the guard
 * clears it (an operator adopted it).
 */
export function createRootWatch (root: string, guardFault: () => string | null) {
  let seen: string | null = null
  const identity = (): string | null => {
    try {
      const st = statSync(root)
      return `${st.dev}:${st.ino}`
    } catch {
      return null
    }
  }
  return {
    fault (): string | null {
      const fault = guardFault()
      if (fault !== null || seen === null) return fault
      return identity() === seen ? null : `the source ${root} is not the directory the mesh has been replicating (unmounted, replaced or gone)`
    },
    /** The directory at the root now is the source (at start without a fault, or once the guard cleared one). */
    adopt (): void {
      seen = identity()
    },
  }
}
