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
  return undefined
}
