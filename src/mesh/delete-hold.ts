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

/** What kind of scan counted deletions for the guard (see `seen`). */
export type HoldScan = 'whole' | 'stale' | 'partial'

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
     * confirmation it did not take up. `stale`: a read of the whole tree
     * that began before the latest hold or confirmation, so it may have
     * passed where those deletions are: it may set the hold (unless a
     * confirmation waits for the next read), never clear it. `partial`: a
     * scan of a few paths held some: deletions are held from now on, and
     * counted whole by the read of the whole tree it asked for.
     */
    seen (count: number, scan: HoldScan): void {
      const since = held?.since ?? new Date(now()).toISOString()
      if (scan === 'whole') {
        allowed = 0
        held = count === 0 ? null : { count, since }
      } else if (count > 0 && (scan === 'stale' ? allowed === 0 : held === null)) {
        held = { count, since }
      }
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
