import { lstatSync } from 'node:fs'
import type parcel from '@parcel/watcher'

/** What the parcel backend uses of @parcel/watcher: its subscribe, its backends, its errors. */

export type Subscribe = typeof parcel.subscribe
export type Subscription = Awaited<ReturnType<Subscribe>>

/** The native backend of each platform; left to parcel elsewhere. Never watchman: one more daemon to fail. */
export const NATIVE_BACKEND: Partial<Record<NodeJS.Platform, parcel.BackendType>> = {
  linux: 'inotify',
  darwin: 'fs-events',
  win32: 'windows',
}

/** The errno of a failure, where parcel's or Node's error says one. */
export const errnoOf = (err: unknown): string | undefined => {
  const e = err as NodeJS.ErrnoException
  if (typeof e?.code === 'string') return e.code
  // parcel's native errors carry strerror text, not a code.
  if (/No space left on device/i.test(e?.message ?? '')) return 'ENOSPC'
  if (/No such file or directory/i.test(e?.message ?? '')) return 'ENOENT'
  if (/Not a directory/i.test(e?.message ?? '')) return 'ENOTDIR'
  if (/Bad file descriptor/i.test(e?.message ?? '')) return 'EBADF'
  return undefined
}

/** How long a subscription whose crawl keeps losing directories below it is tried again; a start under churn waits this long at most. */
const SUBSCRIBE_PATIENCE_MS = 60_000

/** What parcel's crawl fails with when a directory goes while it reads it (EBADF: removed between its open and its read). */
export const isVanished = (err: unknown): boolean => {
  const code = errnoOf(err)
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EBADF'
}

/**
 * parcel's subscribe crawls the directory and adds a watch to every one
 * below it; one of them removed meanwhile fails the whole subscription
 * (ENOENT, ENOTDIR or EBADF). Under churn subdirectories
 * come and go while the tree stays, so the subscription is tried again as
 * long as `dir` itself is still a directory: a node restarted into churn
 * died of this at start, and a new subtree went unwatched.
 */
export async function subscribeSteadily (subscribe: Subscribe, ...args: Parameters<Subscribe>): Promise<Subscription> {
  const giveUpAt = Date.now() + SUBSCRIBE_PATIENCE_MS
  for (let attempt = 1; ; attempt++) {
    try {
      return await subscribe(...args)
    } catch (err) {
      if (!isVanished(err) || Date.now() >= giveUpAt || !isDirectory(args[0])) throw err
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * attempt, 100)))
    }
  }
}

function isDirectory (dir: string): boolean {
  try {
    return lstatSync(dir).isDirectory()
  } catch {
    return false
  }
}
