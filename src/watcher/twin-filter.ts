import type parcel from '@parcel/watcher'

/** Which of the two root subscriptions delivered an event; null for the subtree watches. */
export type RootSubscription = 0 | 1 | null

/**
 * Both root subscriptions report every event, within microseconds of each
 * other. Handling both would send each change twice, and an incremental
 * run re-sends whole files (--ignore-times): a twin is dropped when the
 * other subscription reported the same event in the last second or two.
 * One subscription losing an event in the race leaves it unmatched, so
 * the other's copy still counts.
 *
 * Returns whether an event is a twin, to be dropped.
 */
export function createTwinFilter (): (e: Pick<parcel.Event, 'type' | 'path'>, from: RootSubscription) => boolean {
  let unmatched: [Map<string, number>, Map<string, number>] = [new Map(), new Map()]
  let unmatchedBefore: [Map<string, number>, Map<string, number>] = [new Map(), new Map()]
  let unmatchedSince = Date.now()
  return (e, from) => {
    if (from === null) return false
    const at = Date.now()
    if (at - unmatchedSince > 1_000) {
      unmatchedBefore = unmatched
      unmatched = [new Map(), new Map()]
      unmatchedSince = at
    }
    const key = `${e.type}\0${e.path}`
    const other = 1 - from
    for (const generation of [unmatched, unmatchedBefore]) {
      const n = generation[other]!.get(key)
      if (n === undefined) continue
      if (n > 1) generation[other]!.set(key, n - 1)
      else generation[other]!.delete(key)
      return true
    }
    unmatched[from].set(key, (unmatched[from].get(key) ?? 0) + 1)
    return false
  }
}
