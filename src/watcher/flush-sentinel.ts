import { randomBytes } from 'node:crypto'
import { appendFile, readdir, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from 'pino'

/**
 * A flush without paths must know that the watcher has reported every write
 * made before it. A sentinel entry created in a watched directory travels
 * through the same kernel queue as those writes: once the watcher reports
 * it, it has read every earlier event. Names with this prefix are reserved:
 * every backend swallows their events (before the user's excludes, which
 * must not hide them), and every rsync run excludes them.
 */
export const SENTINEL_PREFIX = '.syncplane-flush-'

/** The rsync exclude: unanchored, since a sentinel may sit in any watched directory; excluded names are also never deleted on a target. */
export const SENTINEL_EXCLUDE = `${SENTINEL_PREFIX}*`

export const isSentinelName = (basename: string): boolean => basename.startsWith(SENTINEL_PREFIX)

/**
 * Where no sentinel can be written (a read-only source), the barrier waits
 * this long instead, with no guarantee: twice parcel's longest debounce
 * (500 ms), and ample for chokidar's stat of a changed file.
 */
export const SETTLE_MS = 1_000

/** A queue that has not reported its sentinel by then may have lost the event (see parcel-watcher.ts): touch it again. */
const RETOUCH_MS = 1_000

export interface BarrierRound {
  /** Queue key → the directory whose sentinel that queue reports. */
  queues: ReadonlyMap<string, string>
  signal: AbortSignal
  /** Wait at least this long too (a polling watcher sees a write only at its next poll). */
  minWaitMs?: number
  /** Runs once every queue reported the sentinel: what else the backend must finish before its reports are complete. */
  settled?: () => Promise<void>
}

export interface SentinelRounds {
  /** Resolves once every queue reported a sentinel made after the call; rejects with the signal's reason when it aborts. */
  run (round: BarrierRound): Promise<void>
  /** `queue` reported an event on entry `basename`: call it once the changes it delivered before have gone to the sink. */
  seen (queue: string, basename: string): void
  /** The watcher closed: every round ends now. */
  close (): void
}

interface Round {
  name: string
  waiting: Map<string, string>
  wake: () => void
}

const GONE = new Set(['ENOENT', 'ENOTDIR'])

/** Removes sentinels a previous process left in `dir` (it died mid-flush); they are harmless but clutter the source. */
export async function removeStaleSentinels (dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [])
  await Promise.all(names.filter(isSentinelName).map((n) => unlink(path.join(dir, n)).catch(() => undefined)))
}

export function createSentinelRounds (logger: Logger): SentinelRounds {
  const rounds = new Set<Round>()
  let closed = false

  const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })

  return {
    async run ({ queues, signal, minWaitMs = 0, settled }) {
      if (closed) return
      const startedAt = performance.now()
      const round: Round = { name: SENTINEL_PREFIX + randomBytes(8).toString('hex'), waiting: new Map(queues), wake: () => undefined }
      // Registered before anything is written: the first report may come before the write's own callback.
      rounds.add(round)
      const made = new Set<string>()
      let unsure = false
      // A directory that cannot hold a sentinel: its queues are not waited for; gone, they report nothing more.
      const give = (dir: string, err: unknown): void => {
        for (const [q, d] of round.waiting) if (d === dir) round.waiting.delete(q)
        const code = (err as NodeJS.ErrnoException).code
        if (code !== undefined && GONE.has(code)) return
        unsure = true
        logger.warn({ err, dir, settleMs: SETTLE_MS }, 'cannot write a flush sentinel; the flush waits a fixed time instead and may answer before a recent write is reported')
      }
      const touch = async (dir: string, first: boolean): Promise<void> => {
        const file = path.join(dir, round.name)
        try {
          if (first) await writeFile(file, '', { flag: 'wx' })
          else await appendFile(file, '.')
          made.add(file)
        } catch (err) {
          give(dir, err)
        }
        round.wake()
      }
      const dirsWaiting = (): Set<string> => new Set(round.waiting.values())
      let retouch: NodeJS.Timeout | undefined
      try {
        await Promise.all([...dirsWaiting()].map((dir) => touch(dir, true)))
        await new Promise<void>((resolve, reject) => {
          const onAbort = (): void => reject(signal.reason)
          round.wake = () => {
            if (round.waiting.size > 0 && !closed) return
            signal.removeEventListener('abort', onAbort)
            resolve()
          }
          if (signal.aborted) return onAbort()
          signal.addEventListener('abort', onAbort, { once: true })
          retouch = setInterval(() => { for (const dir of dirsWaiting()) void touch(dir, false) }, RETOUCH_MS)
          round.wake()
        })
        clearInterval(retouch)
        if (settled !== undefined && !closed) await settled()
        const waitMs = Math.max(unsure ? SETTLE_MS : 0, minWaitMs) - (performance.now() - startedAt)
        if (waitMs > 0) await sleep(waitMs, signal)
      } finally {
        clearInterval(retouch)
        rounds.delete(round)
        await Promise.all([...made].map((file) => unlink(file).catch(() => undefined)))
      }
    },

    seen (queue, basename) {
      for (const round of rounds) {
        if (round.name !== basename || !round.waiting.delete(queue)) continue
        round.wake()
      }
    },

    close () {
      closed = true
      for (const round of rounds) round.wake()
    },
  }
}
