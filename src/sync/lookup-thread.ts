import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { lstatKindsOf, type KindsOf, type PathKind } from './batch-plan.js'

export interface LookupThreadOptions {
  source: string
  /** How much nicer than the service's thread the lookups run. */
  nice: number
  logger: Logger
  /** A seam for tests: the script the thread runs (production: lookup-thread-entry.js beside this file). */
  entry?: URL
}

/** What the lookup thread starts with. */
export interface LookupInit {
  source: string
  nice: number
}

/** One request: paths relative to the source, NUL-separated (the one byte no name holds), which clones as one string. */
export interface LookupRequest { id: number; paths: string }
/** Its answer: one KIND_CODES index per path, in a buffer handed over rather than copied. */
export interface LookupReply { id: number; kinds: Uint8Array }

export const KIND_CODES: readonly PathKind[] = ['missing', 'dir', 'other']

export interface SourceLookup {
  kindsOf: KindsOf
  /** Stops the thread; lookups asked for afterwards run on this thread's libuv pool. */
  close (): Promise<void>
}

/**
 * Looks many source paths up at once on a thread of its own, niced below
 * the service's, with plain synchronous lstats. A burst of 10,000 uploads
 * is looked up twice (to plan the run, and a second after it to catch
 * entries that lived briefly): through libuv's pool that was 20,000
 * callbacks and Stats objects on the thread that answers HTTP, and four
 * pool threads at the service's priority competing with it for the CPU.
 *
 * The thread starts on the first lookup. If it dies, the lookups it held
 * and every later one run in-process instead: slower for probes, never lost.
 */
export function createLookupThread (opts: LookupThreadOptions): SourceLookup {
  const inProcess = lstatKindsOf(opts.source)
  const waiting = new Map<number, { paths: readonly string[]; resolve: (kinds: Map<string, PathKind>) => void }>()
  let worker: Worker | undefined
  let gone = false
  let nextId = 0

  const fallBack = (): void => {
    const held = [...waiting.values()]
    waiting.clear()
    for (const w of held) void inProcess(w.paths).then(w.resolve)
  }

  const lose = (err?: Error): void => {
    if (gone) return
    gone = true
    opts.logger.error({ err }, 'the source lookup thread stopped; looking paths up on the service thread')
    fallBack()
  }

  const spawn = (): Worker => {
    const init: LookupInit = { source: opts.source, nice: opts.nice }
    const w = new Worker(opts.entry ?? new URL('./lookup-thread-entry.js', import.meta.url), { workerData: init })
    // Idle, a helper keeps no process alive; a lookup it owes does.
    w.unref()
    w.on('message', (m: LookupReply) => {
      const req = waiting.get(m.id)
      if (req === undefined) return
      waiting.delete(m.id)
      if (waiting.size === 0) w.unref()
      const kinds = new Map<string, PathKind>()
      for (let i = 0; i < req.paths.length; i++) kinds.set(req.paths[i]!, KIND_CODES[m.kinds[i]!] ?? 'missing')
      req.resolve(kinds)
    })
    w.on('error', (err) => lose(err))
    w.on('exit', () => lose())
    return w
  }

  return {
    kindsOf (paths) {
      if (paths.length === 0) return Promise.resolve(new Map())
      if (gone) return inProcess(paths)
      worker ??= spawn()
      const id = nextId++
      return new Promise((resolve) => {
        if (waiting.size === 0) worker!.ref()
        waiting.set(id, { paths, resolve })
        const req: LookupRequest = { id, paths: paths.join('\0') }
        worker!.postMessage(req)
      })
    },

    async close () {
      if (gone) return
      gone = true
      fallBack()
      await worker?.terminate()
    },
  }
}
