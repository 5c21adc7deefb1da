import type { MeshStore } from '../db/mesh-store.js'
import { createWaiters } from './waiters.js'

/**
 * Flush waiters: each waits until no peer is owed anything queued at or
 * before its sequence number. Looked at after every acknowledged batch.
 */
export function createFlushWaiters (store: Pick<MeshStore, 'owedUpTo'>) {
  return createWaiters<number>((upTo) => store.owedUpTo(upTo) === 0)
}
