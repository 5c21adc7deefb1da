import type { WatchCheck } from '../watcher/watcher.js'
import type { Logger } from 'pino'
import type { MeshStore, MeshConflict } from '../db/mesh-store.js'
import type { RsyncRunner } from '../rsync/runner.js'
import type { BackoffOptions } from '../sync/backoff.js'
import { createApplyBatch } from './apply-batch.js'
import { createHybridClock } from './clock.js'
import { createLocalChanges } from './local-changes.js'
import type { EntryOutcome, Manifest } from './manifest.js'
import { createPeerClient } from './peer-client.js'
import { createPeerLink, type MeshPeer, type PeerLinkOptions, type PeerStatus } from './peer-link.js'
import { createFlushWaiters } from './mesh-flush.js'
import { createDeleteHold, type MeshDeleteHold } from './delete-hold.js'
import { emptyTrash, tidyMeshDirs } from './trash.js'
import { createTombstoneSweep } from './tombstones.js'
import { createRepairer, digestRows, indexOf, type IndexEntry } from './repair.js'
import { createReceiving, receiveBatch } from './receive.js'
import { createStagingRemover } from './staging-remover.js'
import { createApplyingJournal } from './applying-journal.js'
import { createRootWatch } from './root-watch.js'
import { openForWrite } from './open-writers.js'
import { createIntake } from './intake.js'

/**
 * The mesh: every node a source. This node originates versions of what
 * changed in its own tree (local-changes.ts), owes each of them to every
 * peer (one durable queue per peer, peer-link.ts), and applies what peers
 * send (apply-batch.ts). See docs/mesh.md for the guarantees and the rules.
 */
export interface MeshOptions {
  root: string
  self: string
  peers: MeshPeer[]
  secret: string
  store: MeshStore
  runner: RsyncRunner
  rsync: PeerLinkOptions['rsync']
  retry: BackoffOptions
  maxEntries: number
  rescanSec: number
  /** Every peer is compared with this node this often (anti-entropy, repair.ts); 0: only when a peer comes back. */
  repairSec: number
  trashDays: number
  /** Deletions every peer has had are forgotten after this many days (0: never; see tombstones.ts). */
  tombstoneDays: number
  deletes: { maxFiles: number, maxPercent: number, minFiles: number }
  isExcluded: (rel: string, isDir: boolean | undefined) => boolean
  /** A source fault (unmounted, replaced, marker missing): nothing is originated meanwhile. */
  sourceFault: () => string | null
  /** Resolves once the watcher has handed over every change made before the call. */
  watcherBarrier: (signal: AbortSignal) => Promise<void>
  /** Has the watcher make sure these directories are watched (watcher.ts, checkWatches). */
  checkWatches: (checks: readonly WatchCheck[]) => void
  logger: Logger
  now?: () => number
}

export interface MeshStatus {
  self: string
  /** Nothing owed to any peer and nothing waiting to be looked at. */
  idle: boolean
  files: number
  tombstones: number
  conflicts: number
  /** Local deletions the mass-delete guard holds back (see delete-hold.ts). */
  deletesHeld: MeshDeleteHold | null
  /** What keeps the node from idle besides what its peers are owed: changes waiting to be looked at, displaced files held. */
  waiting: { changes: number, displaced: number }
  peers: PeerStatus[]
}

/** What the event stream shows of the mesh: batches acknowledged by a peer, a peer reached or lost, a conflict resolved. */
export interface MeshEvent {
  type: 'mesh.batch' | 'mesh.peer' | 'mesh.conflict'
  data: Record<string, unknown>
}

export type Mesh = ReturnType<typeof createMesh>

export function createMesh (opts: MeshOptions) {
  const { root, self, store, logger } = opts
  const now = opts.now ?? Date.now
  const peerNames = opts.peers.map((p) => p.name)
  const listeners = new Set<(event: MeshEvent) => void>()
  const emit = (event: MeshEvent): void => { for (const l of listeners) l(event) }
  const clock = createHybridClock(now, Math.max(store.maxHlc(), 0))
  const rootWatch = createRootWatch(root, opts.sourceFault)
  const sourceFault = rootWatch.fault
  const deleteHold = createDeleteHold({ deletes: opts.deletes, files: () => store.counts().files, now })
  const local = createLocalChanges({
    root, self, store, clock, peers: () => peerNames, isExcluded: opts.isExcluded, mayDelete: deleteHold.mayDelete, sourceFault, logger,
  })
  const flushWaiters = createFlushWaiters(store)
  const client = createPeerClient(opts.secret, self)
  const links = new Map(opts.peers.map((peer) => [peer.name, createPeerLink({
    peer,
    self,
    store,
    local,
    runner: opts.runner,
    client,
    rsync: opts.rsync,
    retry: opts.retry,
    maxEntries: opts.maxEntries,
    onAcked: (batch) => {
      flushWaiters.check()
      emit({ type: 'mesh.batch', data: { peer: peer.name, ...batch } })
    },
    onReachability: (reachable, error) => emit({ type: 'mesh.peer', data: { peer: peer.name, reachable, error } }),
    onRecovered: () => { void repair(peer.name) },
    sourceFault,
    logger,
  })]))
  const repair = createRepairer({
    peers: opts.peers,
    client,
    store,
    logger,
    owe: (paths, peer) => store.transaction(() => paths.filter((p) => local.remind(p, peer)).length),
    wake: (peer) => links.get(peer)?.wake(),
    closed: () => closed,
  })
  const timers = new Set<NodeJS.Timeout>()
  const later = (fn: () => Promise<void>, ms: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      void fn()
    }, ms)
    timers.add(timer)
  }
  const applier = createApplyBatch({
    root,
    self,
    store,
    clock,
    local,
    logger,
    recheck: later,
    openForWrite,
    suspended: () => sourceFault() !== null,
    onConflict: (c) => {
      store.addConflict({ ...c, resolvedAt: now() })
      logger.info(c, 'conflict: both versions kept')
      emit({ type: 'mesh.conflict', data: { path: c.path, copy: c.copy, winner: c.winner, loser: c.loser } })
    },
  })

  const journal = createApplyingJournal({ root, store, logger })
  const staging = createStagingRemover(logger)
  const tombstones = createTombstoneSweep({ store, days: opts.tombstoneDays, now, logger })

  let started = false
  let closed = false
  let tidyTimer: NodeJS.Timeout | null = null
  /** The whole tree is read again at least this often (whole-reads.ts); the trash and old tombstones go as often. */
  const rescanEveryMs = Math.max(1, opts.rescanSec) * 1000
  let repairTimer: NodeJS.Timeout | null = null
  const receiving = createReceiving(now)
  const intake = createIntake({
    root,
    local,
    sourceFault,
    checkWatches: opts.checkWatches,
    deletesHeld: deleteHold.seen,
    recorded: () => {
      for (const link of links.values()) link.wake()
      flushWaiters.check()
    },
    busy: () => receiving.busy() || [...links.values()].some((l) => l.sending()),
    rescanEveryMs,
  })

  return {
    /** Looks at the tree as it is now (changes made while nobody watched), then starts sending. */
    start (): void {
      if (started) return
      started = true
      if (opts.sourceFault() === null) rootWatch.adopt()
      // Before the staging directories go: they tell which of a cut-short slice's files were put in place.
      if (sourceFault() === null) journal.recover()
      // Staging kept while a note still names it (a start under a source fault recovers once the fault clears).
      tidyMeshDirs(root, now(), opts.trashDays, { keepStaging: store.applying().length > 0 })
      applier.displaced.adopt()
      intake.start()
      for (const link of links.values()) link.start()
      tidyTimer = setInterval(() => {
        emptyTrash(root, now(), opts.trashDays)
        tombstones.due()
      }, rescanEveryMs)
      if (opts.repairSec > 0) {
        repairTimer = setInterval(() => { void repair() }, opts.repairSec * 1000)
      }
    },

    /** What the watcher saw (relative paths); looked at within a few milliseconds. */
    recordChanges (paths: readonly string[]): void {
      if (closed) return
      intake.add(paths, started)
    },

    /** The source guard's verdict changed; once the fault clears, the tree is looked at whole. */
    sourceChanged (fault: string | null): void {
      // The guard judged the directory at the root the source (again): the mesh replicates that one from now on.
      if (fault === null) rootWatch.adopt()
      if (fault === null && started) {
        // A start under a fault skipped the applying journal's recovery (its staging directories were kept for it).
        journal.recover()
        intake.faultCleared()
      }
    },

    /** A peer's batch. The peer must be one of ours; its staged files are taken from its staging directory. */
    async apply (manifest: Manifest): Promise<EntryOutcome[] | 'unknown-peer'> {
      const link = links.get(manifest.from)
      if (link === undefined || manifest.from === self) return 'unknown-peer'
      link.heard()
      const outcomes = await receiving.during(() => receiveBatch({ root, applier, sourceFault, beforeSlice: intake.drain, transaction: store.transaction, journal, discard: staging.remove }, manifest))
      // Copies owed onwards, parents recorded: let the links look.
      for (const l of links.values()) l.wake()
      return outcomes
    },

    /** A peer said hello. */
    heard (from: string): boolean {
      const link = links.get(from)
      link?.heard()
      return link !== undefined
    },

    /**
     * Resolves once what was written before the call is on every peer:
     * `paths` are looked at now; without them the watcher's barrier first
     * makes sure every earlier change was reported.
     */
    async flush ({ paths, timeoutMs }: { paths?: readonly string[] | undefined, timeoutMs: number }): Promise<{ done: boolean, owed: number }> {
      const signal = AbortSignal.timeout(timeoutMs)
      if (paths === undefined || paths.length === 0) {
        try {
          await opts.watcherBarrier(signal)
        } catch {
          return { done: false, owed: store.owedUpTo(store.maxSeq()) }
        }
        // What changed while nobody watched is known once the start's read of the whole tree ends (it goes in steps).
        if (!await intake.startRead(signal)) return { done: false, owed: store.owedUpTo(store.maxSeq()) }
      } else {
        intake.add(paths, false)
      }
      intake.flushAll()
      // Bytes written into a file a peer's version displaced are kept (a conflict copy) and owed before `upTo`.
      await applier.displaced.checkNow()
      for (const link of links.values()) link.wake()
      const upTo = store.maxSeq()
      const done = await flushWaiters.wait(upTo, signal)
      return { done, owed: store.owedUpTo(upTo) }
    },

    status (): MeshStatus {
      const counts = store.counts()
      const peers = [...links.values()].map((l) => l.status())
      return {
        self,
        // A displaced file not settled yet may still turn out to hold an upload (displaced-watch.ts).
        idle: intake.empty() && applier.displaced.count() === 0 && peers.every((p) => p.owed === 0),
        waiting: { changes: intake.waiting(), displaced: applier.displaced.count() },
        files: counts.files,
        tombstones: counts.tombstones,
        conflicts: store.conflicts(0).total,
        deletesHeld: deleteHold.current(),
        peers,
      }
    },

    repair,

    /** Mesh events for the event stream; returns the unsubscribe function. */
    subscribe (listener: (event: MeshEvent) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },

    /** This node's per-bucket digests, for a peer's repair. */
    digest (): string[] {
      return digestRows(store.all())
    },

    /** This node's entries in those buckets, for a peer's repair. */
    index (buckets: readonly number[]): IndexEntry[] {
      return indexOf(store.all(), new Set(buckets))
    },

    conflicts (limit: number): { total: number, items: MeshConflict[] } {
      return store.conflicts(limit)
    },

    /** Lets the held local deletions go, if their count is still `expected`. */
    confirmDeletes (expected: number): 'none' | 'changed' | 'confirmed' {
      const outcome = deleteHold.confirm(expected)
      if (outcome === 'confirmed') intake.confirmed()
      return outcome
    },

    /** Lets the batches in flight finish; what is owed stays owed (it is durable). */
    async close (): Promise<void> {
      closed = true
      intake.close()
      if (tidyTimer !== null) clearInterval(tidyTimer)
      if (repairTimer !== null) clearInterval(repairTimer)
      for (const t of timers) clearTimeout(t)
      applier.displaced.close()
      await Promise.all([...links.values()].map((l) => l.close()))
      flushWaiters.close()
      await staging.settled()
      client.close()
    },

    async destroy (): Promise<void> {
      closed = true
      await Promise.all([...links.values()].map((l) => l.destroy()))
      await this.close()
    },
  }
}
