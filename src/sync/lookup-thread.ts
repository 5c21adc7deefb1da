import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { InternalError } from '../errors.js'
import { createInProcessLookup, type PlannedRun, type SourceLookup } from './source-lookup.js'

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

/** Paths relative to the source, NUL-separated (the one byte no name holds): one string clones faster than an array. */
export type LookupRequest = { id: number; op: 'plan' | 'missing'; paths: string }
export type LookupReply =
  | { id: number; op: 'plan'; run: PlannedRun }
  | { id: number; op: 'missing'; paths: string }

interface Waiting {
  op: LookupRequest['op']
  paths: readonly string[]
  resolve (reply: LookupReply): void
  reject (err: unknown): void
}

/**
 * The engine's lookups on the source, on a thread of its own niced below the
 * service's, with plain synchronous lstats. A burst of 10,000 uploads is
 * looked at twice: to plan its run (which also encodes the list for rsync),
 * and a second after it, to catch entries that lived briefly. On the thread
 * that answers HTTP that was 20,000 lstat callbacks and Stats objects, a
 * 10,000-entry map and a plan made in one go, and four libuv pool threads
 * at the service's priority competing with it for the CPU.
 *
 * The thread starts on the first lookup. If it dies, the lookups it held
 * and every later one run in-process instead: slower for probes, never lost.
 */
export function createLookupThread (opts: LookupThreadOptions): SourceLookup {
  const inProcess = createInProcessLookup(opts.source)
  const waiting = new Map<number, Waiting>()
  let worker: Worker | undefined
  let gone = false
  let nextId = 0

  const inProcessReply = async (id: number, op: LookupRequest['op'], paths: readonly string[]): Promise<LookupReply> => op === 'plan'
    ? { id, op: 'plan', run: await inProcess.plan(paths) }
    : { id, op: 'missing', paths: (await inProcess.missing(paths)).join('\0') }

  const fallBack = (): void => {
    const held = [...waiting]
    waiting.clear()
    for (const [id, w] of held) inProcessReply(id, w.op, w.paths).then(w.resolve, w.reject)
  }

  const lose = (err?: Error): void => {
    if (gone) return
    gone = true
    opts.logger.error({ err }, 'the source lookup thread stopped; looking paths up on the service thread from now on')
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
      req.resolve(m)
    })
    w.on('error', (err) => lose(err))
    w.on('exit', (code) => lose(new InternalError('SP_LOOKUP_THREAD_EXITED', `the lookup thread exited with code ${code}`)))
    return w
  }

  const ask = (op: LookupRequest['op'], paths: readonly string[]): Promise<LookupReply> => {
    const id = nextId++
    if (gone) return inProcessReply(id, op, paths)
    worker ??= spawn()
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) worker!.ref()
      waiting.set(id, { op, paths, resolve, reject })
      const req: LookupRequest = { id, op, paths: paths.join('\0') }
      worker!.postMessage(req)
    })
  }

  return {
    async plan (paths) {
      const reply = await ask('plan', paths)
      if (reply.op !== 'plan') throw new InternalError('SP_LOOKUP_THREAD_ANSWER', 'the lookup thread answered a plan with something else')
      return reply.run
    },

    async missing (names) {
      if (names.length === 0) return []
      const reply = await ask('missing', names)
      if (reply.op !== 'missing') throw new InternalError('SP_LOOKUP_THREAD_ANSWER', 'the lookup thread answered a check with something else')
      return reply.paths === '' ? [] : reply.paths.split('\0')
    },

    async close () {
      if (gone) return
      gone = true
      fallBack()
      await worker?.terminate()
    },
  }
}
