/**
 * The mass-delete guard of the mesh, on the originating node: a scan that
 * finds more deletions than `deletes.maxFiles`, or more than
 * `deletes.maxPercent` of the tree above `deletes.minFiles`, records none
 * of them (so no peer deletes anything) until an operator confirms the
 * count. The same limits as the one-way targets' (src/sync/delete-guard.ts).
 */
export interface MeshDeleteHold {
  count: number
  since: string
}

export function createDeleteHold ({ deletes, files, now }: {
  deletes: { maxFiles: number, maxPercent: number, minFiles: number }
  files: () => number
  now: () => number
}) {
  let held: MeshDeleteHold | null = null
  let allowed = 0
  return {
    /** `whole`: a read of the whole tree found them; only that read takes up a confirmation (it comes a while after). */
    mayDelete (count: number, whole: boolean): boolean {
      if (whole && count <= allowed) {
        allowed = 0
        return true
      }
      // While deletions are held, later ones wait with them: the operator confirms them together.
      if (held !== null) return false
      const overCount = deletes.maxFiles > 0 && count > deletes.maxFiles
      const overShare = count > deletes.minFiles && deletes.maxPercent < 100 && count > (files() * deletes.maxPercent) / 100
      return !overCount && !overShare
    },
    /**
     * What a scan held back. `whole`: a read of the whole tree, whose count
     * is the hold's (0: nothing, and the hold clears); it also ends a
     * confirmation it did not take up. Otherwise a scan of a few paths held
     * some: deletions are held from now on, and counted whole by the read of
     * the whole tree it asked for (which goes in steps).
     */
    seen (count: number, whole: boolean): void {
      if (whole) allowed = 0
      if (whole && count === 0) held = null
      else if (whole || held === null) held = { count, since: held?.since ?? new Date(now()).toISOString() }
    },
    current (): MeshDeleteHold | null {
      return held
    },
    confirm (expected: number): 'none' | 'changed' | 'confirmed' {
      if (held === null) return 'none'
      if (held.count !== expected) return 'changed'
      allowed = expected
      held = null
      return 'confirmed'
    },
  }
}
