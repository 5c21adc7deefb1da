import { rm } from 'node:fs/promises'
import type { Logger } from 'pino'

/**
 * Staging directories a peer's batch left, removed off the event loop: a
 * burst's batch leaves one empty directory per directory it touched, and
 * removing them held the reply to the sender (and this node's own intake)
 * for a hundred rmdirs per batch. One removal per directory at a time;
 * what a crash cuts short, the next start tidies (trash.ts).
 */
export function createStagingRemover (logger: Logger) {
  const removing = new Map<string, Promise<void>>()
  return {
    remove (dir: string): void {
      if (removing.has(dir)) return
      const done = rm(dir, { recursive: true, force: true })
        .catch((err: unknown) => logger.warn({ err, dir }, 'a staging directory could not be removed; the next start tidies it'))
        .finally(() => removing.delete(dir))
      removing.set(dir, done)
    },
    /** Resolves once every removal begun has ended (close). */
    async settled (): Promise<void> {
      await Promise.all(removing.values())
    },
  }
}
