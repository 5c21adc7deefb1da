import { randomUUID } from 'node:crypto'
import { InternalError } from '../errors.js'
import type { Logger } from 'pino'
import type { MeshStore, OutboxItem } from '../db/mesh-store.js'
import { buildStagingArgs, encodeFileList, type RsyncCommonOptions, type RsyncTarget } from '../rsync/args.js'
import type { RsyncRunner } from '../rsync/runner.js'
import { retryDelayMs, type BackoffOptions } from '../sync/backoff.js'
import { fitsSmallRun } from '../sync/batch-plan.js'
import type { LocalChanges } from './local-changes.js'
import type { Manifest, ManifestEntry } from './manifest.js'
import { entryOf, type RowKey } from './version-row.js'
import type { PeerClient } from './peer-client.js'
import { MESH_DIR } from './mesh-paths.js'
import { inTree, lookAt, sameKey } from './tree-fs.js'

/**
 * What this node owes one peer, sent in order: each batch's file bytes
 * into the peer's staging directory (rsync), then its manifest (HTTP); the
 * peer answers per entry, and only an answered entry leaves the outbox. A
 * peer that is down or slow delays its own queue only.
 */
export interface MeshPeer {
  name: string
  /** Its syncplane API, e.g. http://10.0.0.2:8787. */
  api: string
  /** Its tree as rsync reaches it (daemon module or SSH path), with the password. */
  rsync: RsyncTarget & { password: string | undefined }
}

export interface PeerLinkOptions {
  peer: MeshPeer
  self: string
  store: MeshStore
  local: LocalChanges
  runner: RsyncRunner
  client: PeerClient
  rsync: Omit<RsyncCommonOptions, 'excludes'> & { deadlineSec: number, killGraceSec: number }
  retry: BackoffOptions
  maxEntries: number
  /** A batch was acknowledged (flush waiters look again, the event stream shows it). */
  onAcked: (batch: { entries: number, files: number, retries: number }) => void
  /** The peer answered after it did not, or stopped answering. */
  onReachability: (reachable: boolean, error: string | null) => void
  /** The peer answers again after failures: what it missed meanwhile is looked for (repair). */
  onRecovered: () => void
  /** A source fault: the tree's bytes are not at the root, so nothing is sent (it stays owed). */
  sourceFault: () => string | null
  logger: Logger
  now?: () => number
}

export const PEER_STATES = ['idle', 'sending', 'failing'] as const
export type PeerState = typeof PEER_STATES[number]

export interface PeerStatus {
  name: string
  api: string
  state: PeerState
  reachable: boolean | null
  lastContact: string | null
  /** Paths owed to this peer (their latest versions). */
  owed: number
  /** Since when the oldest owed path has waited; 0 when nothing is owed. */
  lagMs: number
  consecutiveFailures: number
  lastError: string | null
  nextRetryAt: string | null
  batchesSent: number
  filesSent: number
}

const HELLO_EVERY_MS = 5_000

export type PeerLink = ReturnType<typeof createPeerLink>

export function createPeerLink (opts: PeerLinkOptions) {
  const { peer, store, logger } = opts
  const now = opts.now ?? Date.now
  let state: PeerState = 'idle'
  let reachable: boolean | null = null
  let lastContact: number | null = null
  let failures = 0
  let lastError: string | null = null
  let nextRetryAt: number | null = null
  let batchesSent = 0
  let filesSent = 0
  /** When the queue last went from empty to owed (the lag of the oldest owed path). */
  let owedSince: number | null = null
  let wake: (() => void) | null = null
  let stopped = false
  const abort = new AbortController()
  let loop: Promise<void> | null = null

  const contact = (): void => {
    if (reachable !== true) opts.onReachability(true, null)
    reachable = true
    lastContact = now()
  }
  const lost = (error: string): void => {
    if (reachable !== false) opts.onReachability(false, error)
    reachable = false
    lastError = error
  }

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      wake = null
      resolve()
    }
    wake = done
  })

  async function send (): Promise<void> {
    const fault = opts.sourceFault()
    if (fault !== null) throw new InternalError('SP_PEER_FAILED', `not sending while the source is faulted: ${fault}`)
    const owed = store.takeRows(peer.name, opts.maxEntries)
    if (owed.length === 0) return
    let entries: ManifestEntry[] = []
    let sentItems: OutboxItem[] = []
    const gone: OutboxItem[] = []
    const keys = new Map<string, RowKey>()
    for (const { item, row } of owed) {
      if (row === undefined) {
        gone.push(item)
        continue
      }
      keys.set(row.path, row)
      entries.push(entryOf(row))
      sentItems.push(item)
    }
    store.ack(peer.name, gone)
    const files = entries.filter((e) => e.kind === 'file' && !e.deleted).map((e) => e.path)
    const batch = randomUUID()
    if (files.length > 0) {
      const outcome = await opts.runner.run({
        args: buildStagingArgs(peer.rsync, { ...opts.rsync, excludes: [] }, `${MESH_DIR}/staging/${opts.self}/${batch}`, { small: isSmallBatch(files.map((rel) => keys.get(rel)?.size ?? null)) }),
        input: encodeFileList(files),
        password: peer.rsync.password,
        deadlineMs: opts.rsync.deadlineSec * 1000,
        killGraceMs: opts.rsync.killGraceSec * 1000,
        signal: abort.signal,
      })
      // 24: a file vanished on the way; the peer answers `retry` for it and the next scan finds the deletion.
      if (outcome.exitCode !== 0 && outcome.exitCode !== 24) {
        throw new InternalError('SP_PEER_FAILED', outcome.spawnError ?? `rsync to ${peer.name} exited with ${outcome.exitCode ?? outcome.signal}: ${outcome.stderrTail.trim().split('\n').slice(-2).join(' ')}`)
      }
      // rsync sent each file as it read it: one changed since its version was recorded may have gone, wholly or in
      // part, as a later state under this version's vector (a peer deleting or overwriting those bytes would then
      // count as having seen this version only, and the later version would come back over its deletion). Such an
      // entry stays owed, and its new version is recorded now (not when the watcher's report comes): the next
      // round sends that one, with its own bytes.
      const changed = new Set(files.filter((rel) => !unchanged(rel, keys.get(rel)!)))
      if (changed.size > 0) {
        sentItems = sentItems.filter((_, i) => !changed.has(entries[i]!.path))
        entries = entries.filter((e) => !changed.has(e.path))
        opts.local.scan(changed)
      }
    }
    const manifest: Manifest = { from: opts.self, batch, entries }
    const outcomes = await opts.client.apply(peer.api, manifest, AbortSignal.any([abort.signal, AbortSignal.timeout(60_000)]))
    contact()
    store.ack(peer.name, sentItems.filter((_, i) => outcomes[i] !== 'retry'))
    batchesSent++
    filesSent += files.length
    const retries = outcomes.filter((o) => o === 'retry').length
    opts.onAcked({ entries: entries.length, files: files.length, retries })
    if (retries > 0) {
      logger.debug({ peer: peer.name, retries }, 'the peer could not take some entries yet')
      // Not at once: what blocked them (a path in use) needs a moment.
      await sleep(opts.retry.initialDelayMs)
    }
  }

  const unchanged = (rel: string, key: RowKey): boolean => {
    const now = lookAt(inTree(opts.rsync.source, rel))
    return now?.type === 'file' && sameKey(now.key, key)
  }

  async function run (): Promise<void> {
    while (!stopped) {
      const owed = store.owed(peer.name)
      if (owed.count === 0) {
        owedSince = null
        state = 'idle'
        if (lastContact === null || now() - lastContact >= HELLO_EVERY_MS) await hello()
        await sleep(HELLO_EVERY_MS)
        continue
      }
      owedSince ??= now()
      state = 'sending'
      try {
        await send()
        if (failures > 0) opts.onRecovered()
        failures = 0
        lastError = null
        nextRetryAt = null
        if (store.owed(peer.name).count === 0) owedSince = null
      } catch (err) {
        if (stopped) break
        failures++
        state = 'failing'
        lost((err as Error).message)
        const delay = retryDelayMs(failures, opts.retry)
        nextRetryAt = now() + delay
        logger.warn({ peer: peer.name, failures, retryInMs: delay, err: lastError }, 'sending to a peer failed; its batch stays owed')
        await sleep(delay)
      }
    }
  }

  async function hello (): Promise<void> {
    try {
      await opts.client.hello(peer.api, AbortSignal.any([abort.signal, AbortSignal.timeout(5_000)]))
      if (reachable === false) opts.onRecovered()
      contact()
    } catch (err) {
      if (!stopped) lost((err as Error).message)
    }
  }

  let closing: Promise<void> | null = null
  return {
    start (): void {
      loop ??= run()
    },
    /** Something was queued for this peer. */
    wake (): void {
      if (state === 'failing') return
      wake?.()
    },
    /** Owed versions are going to the peer (not idle, not waiting to retry). */
    sending (): boolean {
      return state === 'sending'
    },
    /** The peer reached us (it sent a batch): it is up. */
    heard (): void {
      contact()
      if (state === 'failing') wake?.()
    },
    status (): PeerStatus {
      const owed = store.owed(peer.name).count
      return {
        name: peer.name,
        api: peer.api,
        state,
        reachable,
        lastContact: lastContact === null ? null : new Date(lastContact).toISOString(),
        owed,
        lagMs: owed === 0 || owedSince === null ? 0 : now() - owedSince,
        consecutiveFailures: failures,
        lastError,
        nextRetryAt: nextRetryAt === null ? null : new Date(nextRetryAt).toISOString(),
        batchesSent,
        filesSent,
      }
    },
    /** Lets the batch in flight finish (what is owed stays owed). */
    close (): Promise<void> {
      closing ??= (async () => {
        stopped = true
        wake?.()
        await loop
      })()
      return closing
    },
    /** Stops the batch in flight too. */
    destroy (): Promise<void> {
      abort.abort()
      return this.close()
    },
  }
}

/** A batch of files whose recorded sizes make a small run; a size the row lacks is not known to be small. */
export const isSmallBatch = (sizes: ReadonlyArray<number | null>): boolean => fitsSmallRun(sizes.map((size) => size ?? Infinity))
