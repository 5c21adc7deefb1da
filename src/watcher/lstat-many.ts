import { lstat, type Stats } from 'node:fs'
import path from 'node:path'

const IN_FLIGHT = 64

/**
 * lstat of many paths under `root`, on libuv's threads, a few in flight at
 * a time so each completion is a short turn of the event loop. Callbacks,
 * not fs/promises: a burst looks up tens of thousands of paths, and the
 * promise API costs about twice the main-thread time per call (measured:
 * 10,000 lstats, 45 ms against 100 ms).
 */
export function lstatMany (root: string, rels: readonly string[]): Promise<Array<Stats | undefined>> {
  const out = new Array<Stats | undefined>(rels.length)
  if (rels.length === 0) return Promise.resolve(out)
  return new Promise((resolve) => {
    let next = 0
    let done = 0
    const start = (): void => {
      const i = next++
      lstat(path.join(root, rels[i]!), (err, st) => {
        out[i] = err ? undefined : st
        if (++done === rels.length) resolve(out)
        else if (next < rels.length) start()
      })
    }
    while (next < rels.length && next < IN_FLIGHT) start()
  })
}
