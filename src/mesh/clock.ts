/**
 * A hybrid logical clock: wall-clock milliseconds that never go back and
 * never repeat on this node, and that move past every version received, so
 * a local write made after a peer's version arrived is later than it even
 * when the peer's clock runs ahead. It orders conflict winners only
 * (version vectors decide what has been seen).
 */
export interface HybridClock {
  /** A stamp for a new local version. */
  tick (): number
  /** A version from a peer was seen. */
  observe (hlc: number): void
}

export function createHybridClock (now: () => number, start: number): HybridClock {
  let last = start
  return {
    tick () {
      last = Math.max(last + 1, now())
      return last
    },
    observe (hlc) {
      if (hlc > last) last = hlc
    },
  }
}
