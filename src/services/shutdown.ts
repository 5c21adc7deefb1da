import type { Logger } from 'pino'

/** The steps of shutdown, as the services do them; createShutdown runs each at most once. */
export interface ShutdownSteps {
  /** No change comes in any more: retention, the source guard, the watch and the mesh's batches in flight stop. */
  stopWatching (): Promise<void>
  /** The rsync runs: close() lets them finish, destroy() stops them. */
  engine: { close (): Promise<void>, destroy (): Promise<void> }
  mesh: { destroy (): Promise<void> } | undefined
  closeSsh (): Promise<void>
  closeLookup (): Promise<void>
  closeApi (): Promise<unknown>
  /** Once itself (see openStores). */
  closeDatabase (): void
  /** How long close() lets running rsyncs finish; read when it starts draining, as a reload may have changed it. */
  drainMs (): number
  logger: Logger
}

/**
 * close() stops in the order that loses nothing (watcher, then rsync, then
 * the API, then the database); destroy() stops at once, during a close() or
 * without one. Each step runs once, whichever of them comes to it first.
 */
export function createShutdown (steps: ShutdownSteps) {
  const { engine, mesh, closeDatabase, logger } = steps
  const stopWatching = once(steps.stopWatching)
  const closeSsh = once(steps.closeSsh)
  const closeLookup = once(steps.closeLookup)
  const closeApi = once(steps.closeApi)
  let closing: Promise<void> | undefined
  let destroying: Promise<void> | undefined

  return {
    close (): Promise<void> {
      closing ??= (async () => {
        await stopWatching()
        const drainMs = steps.drainMs()
        let timer: NodeJS.Timeout | undefined
        const drained = await Promise.race([
          engine.close().then(() => true),
          new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), drainMs) }),
        ])
        clearTimeout(timer)
        if (!drained) {
          logger.warn({ drainMs }, 'running rsyncs did not finish in time; stopping them')
          // Closing the masters ends the remote side of runs that went through them.
          await Promise.all([engine.destroy(), closeSsh()])
        } else {
          await closeSsh()
        }
        await closeLookup()
        await closeApi()
        closeDatabase()
      })()
      return closing
    },

    destroy (): Promise<void> {
      destroying ??= (async () => {
        const released = Promise.all([engine.destroy(), mesh?.destroy(), stopWatching(), closeSsh()]).then(() => closeLookup())
        let timer: NodeJS.Timeout | undefined
        await Promise.race([released, new Promise((resolve) => { timer = setTimeout(resolve, ABORT_WAIT_MS) })])
        clearTimeout(timer)
        await closeApi()
        closeDatabase()
      })()
      return destroying
    },
  }
}

/** How long destroy() waits for the watcher thread and the stopped runs before it closes the database. */
const ABORT_WAIT_MS = 2_000

/** The step's promise from its first call on; a step that throws before it has one is tried again. */
function once<T> (step: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined
  return () => {
    result ??= step()
    return result
  }
}
