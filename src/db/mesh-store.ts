import type { Db } from './open.js'

export type MeshKind = 'file' | 'dir'

/** A path's version as this node holds it (see migrations/0003-mesh.sql). */
export interface MeshFileRow {
  path: string
  kind: MeshKind
  deleted: boolean
  /** JSON of the version vector of the version held (or of the deletion), keys sorted. */
  vv: string
  /** JSON of everything this node has seen of the path (vv and what it outlived or lost to), or null: vv. See migrations/0004. */
  seen: string | null
  /** JSON of the versions of the path known to be overwritten or deleted (not only beaten in a conflict), or null: none. See migrations/0007. */
  dead: string | null
  hlc: number
  origin: string
  /** This node's stat of its copy; null on a tombstone. */
  size: number | null
  mtimeNs: string | null
  ino: string | null
  /** On a conflict copy: JSON {path, winner}. */
  copyOf: string | null
}

export interface OutboxItem { path: string, seq: number }

/** An outbox item with the row it names (undefined: the row was forgotten since). */
export interface OwedRow { item: OutboxItem, row: MeshFileRow | undefined }

export interface MeshConflict {
  id: number
  path: string
  copy: string
  winner: string
  loser: string
  loserHlc: number
  resolvedAt: number
}

/** A slice of a peer's batch whose application a crash may have cut short (see migrations/0005). */
export interface ApplyingSlice { id: number, staging: string, entries: string }

interface RawRow {
  path: string
  kind: MeshKind
  deleted: number
  vv: string
  seen: string | null
  dead: string | null
  hlc: number
  origin: string
  size: number | null
  mtime_ns: string | null
  ino: string | null
  copy_of: string | null
}

const toRow = (r: RawRow): MeshFileRow => ({ path: r.path, kind: r.kind, deleted: r.deleted === 1, vv: r.vv, seen: r.seen, dead: r.dead, hlc: r.hlc, origin: r.origin, size: r.size, mtimeNs: r.mtime_ns, ino: r.ino, copyOf: r.copy_of })

/** Everything the mesh keeps in SQLite: versions, what each peer is owed, conflicts. */
export type MeshStore = ReturnType<typeof createMeshStore>

export function createMeshStore (db: Db) {
  const get = db.prepare<[string], RawRow>('SELECT * FROM mesh_files WHERE path = ?')
  const upsert = db.prepare(`INSERT INTO mesh_files (path, kind, deleted, vv, seen, dead, hlc, origin, size, mtime_ns, ino, copy_of)
    VALUES (@path, @kind, @deleted, @vv, @seen, @dead, @hlc, @origin, @size, @mtimeNs, @ino, @copyOf)
    ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, deleted = excluded.deleted, vv = excluded.vv, seen = excluded.seen, dead = excluded.dead, hlc = excluded.hlc,
      origin = excluded.origin, size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino, copy_of = excluded.copy_of`)
  // '/' + 1 is '0': every path below `dir/` sorts in [dir/, dir0).
  const below = db.prepare<[string, string], RawRow>('SELECT * FROM mesh_files WHERE path >= ? AND path < ? AND deleted = 0')
  const from = db.prepare<[string], RawRow>('SELECT * FROM mesh_files WHERE path >= ? ORDER BY path')
  const all = db.prepare<[], RawRow>('SELECT * FROM mesh_files')
  const copiesOf = db.prepare<[string], RawRow>('SELECT * FROM mesh_files WHERE copy_of IS NOT NULL AND json_extract(copy_of, \'$.path\') = ? AND deleted = 0')
  const maxHlc = db.prepare<[], { m: number | null }>('SELECT max(hlc) AS m FROM mesh_files')
  // NOT IN over the outbox: one pass over it, whatever its size (a partitioned peer's can be large).
  const forget = db.prepare<[number, number]>(`DELETE FROM mesh_files WHERE rowid IN (SELECT rowid FROM mesh_files
    WHERE deleted = 1 AND hlc < ? AND path NOT IN (SELECT path FROM mesh_outbox) LIMIT ?)`)
  const counts = db.prepare<[], { files: number, tombstones: number }>('SELECT coalesce(sum(deleted = 0), 0) AS files, coalesce(sum(deleted = 1), 0) AS tombstones FROM mesh_files')
  const enqueue = db.prepare('INSERT INTO mesh_outbox (peer, path, seq) VALUES (?, ?, ?) ON CONFLICT (peer, path) DO UPDATE SET seq = excluded.seq')
  const enqueueMissing = db.prepare('INSERT INTO mesh_outbox (peer, path, seq) VALUES (?, ?, ?) ON CONFLICT (peer, path) DO NOTHING')
  // One statement per batch instead of one per path (the sender's side of a burst).
  const takeRows = db.prepare<[string, number], RawRow & { o_path: string, o_seq: number }>(`SELECT o.path AS o_path, o.seq AS o_seq, f.*
    FROM mesh_outbox o LEFT JOIN mesh_files f ON f.path = o.path WHERE o.peer = ? ORDER BY o.seq LIMIT ?`)
  const ack = db.prepare('DELETE FROM mesh_outbox WHERE peer = ? AND path = ? AND seq = ?')
  const owed = db.prepare<[string], { n: number, oldest: number | null }>('SELECT count(*) AS n, min(seq) AS oldest FROM mesh_outbox WHERE peer = ?')
  const owedUpTo = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM mesh_outbox WHERE seq <= ?')
  const owedPath = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM mesh_outbox WHERE path = ?')
  const maxSeq = db.prepare<[], { m: number | null }>('SELECT max(seq) AS m FROM mesh_outbox')
  const dropPeer = db.prepare('DELETE FROM mesh_outbox WHERE peer = ?')
  const addConflict = db.prepare('INSERT OR IGNORE INTO mesh_conflicts (path, copy, winner, loser, loser_hlc, resolved_at) VALUES (?, ?, ?, ?, ?, ?)')
  const listConflicts = db.prepare<[number], { id: number, path: string, copy: string, winner: string, loser: string, loser_hlc: number, resolved_at: number }>(
    'SELECT * FROM mesh_conflicts ORDER BY id DESC LIMIT ?')
  const countConflicts = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM mesh_conflicts')
  const beginApplying = db.prepare<[string, string]>('INSERT INTO mesh_applying (staging, entries) VALUES (?, ?)')
  const endApplying = db.prepare<[number]>('DELETE FROM mesh_applying WHERE id = ?')
  const applying = db.prepare<[], ApplyingSlice>('SELECT id, staging, entries FROM mesh_applying ORDER BY id')
  // Made once: better-sqlite3 builds four wrapped functions per db.transaction() call, a twentieth of a receiver's
  // burst when made per entry (nested, a run is a savepoint: BEGIN or SAVEPOINT is chosen at each call).
  const inTransaction = db.transaction((fn: () => unknown) => fn())
  const ackAll = db.transaction((peer: string, items: readonly OutboxItem[]) => { for (const item of items) ack.run(peer, item.path, item.seq) })

  return {
    get (path: string): MeshFileRow | undefined {
      const r = get.get(path)
      return r === undefined ? undefined : toRow(r)
    },
    put (row: MeshFileRow): void {
      upsert.run({ ...row, deleted: row.deleted ? 1 : 0 })
    },
    /** Present rows strictly below directory `dir`. */
    below (dir: string): MeshFileRow[] {
      return below.all(`${dir}/`, `${dir}0`).map(toRow)
    },
    /**
     * Rows of the entries directly in directory `dir` ('' for the root),
     * tombstones included: a scan weighs each entry against its row. In
     * path order the rows below an entry follow it (and the entries that
     * sort before '/'); the read skips them with a seek past `entry/`, so
     * it costs the entries and not the tree below them (the root's, of a
     * million rows, would take a second).
     */
    children (dir: string): MeshFileRow[] {
      const prefix = dir === '' ? '' : `${dir}/`
      const out: MeshFileRow[] = []
      // Where the read goes on from: past the tree below an entry, or null once past `dir`.
      let at: string | null = prefix
      while (at !== null) {
        const start: string = at
        at = null
        for (const raw of from.iterate(start)) {
          if (!raw.path.startsWith(prefix)) break
          const slash = raw.path.indexOf('/', prefix.length)
          if (slash === -1) {
            out.push(toRow(raw))
            continue
          }
          // '/' + 1 is '0': past every path below this entry.
          at = `${raw.path.slice(0, slash)}0`
          break
        }
      }
      return out
    },
    /** Every row, tombstones included. */
    all (): MeshFileRow[] {
      return all.all().map(toRow)
    },
    /** The present conflict copies of the versions that lost at `path`. */
    copiesOf (path: string): MeshFileRow[] {
      return copiesOf.all(path).map(toRow)
    },
    maxHlc (): number {
      return maxHlc.get()?.m ?? 0
    },
    /** Drops up to `limit` tombstones older than `before` that no peer is owed; returns how many went. */
    forgetTombstones (before: number, limit: number): number {
      return forget.run(before, limit).changes
    },
    counts (): { files: number, tombstones: number } {
      return counts.get()!
    },
    enqueue (path: string, peers: readonly string[], seq: number): void {
      for (const peer of peers) enqueue.run(peer, path, seq)
    },
    /** Like enqueue, but a path already owed to a peer keeps its place (and its seq: an item in flight is acknowledged as sent); true if queued. */
    enqueueMissing (path: string, peer: string, seq: number): boolean {
      return enqueueMissing.run(peer, path, seq).changes > 0
    },
    /** The first `limit` items owed to `peer`, each with its row. */
    takeRows (peer: string, limit: number): OwedRow[] {
      return takeRows.all(peer, limit).map((r) => ({ item: { path: r.o_path, seq: r.o_seq }, row: r.path === null ? undefined : toRow(r) }))
    },
    ack (peer: string, items: readonly OutboxItem[]): void {
      // One transaction: a batch acknowledges up to mesh.maxEntries rows, and each DELETE on its own is a commit.
      ackAll(peer, items)
    },
    owed (peer: string): { count: number, oldestSeq: number | null } {
      const r = owed.get(peer)!
      return { count: r.n, oldestSeq: r.oldest }
    },
    owedUpTo (seq: number): number {
      return owedUpTo.get(seq)!.n
    },
    owedPath (path: string): number {
      return owedPath.get(path)!.n
    },
    maxSeq (): number {
      return maxSeq.get()?.m ?? 0
    },
    /** A peer no longer in the configuration is owed nothing. */
    forgetPeer (peer: string): void {
      dropPeer.run(peer)
    },
    addConflict (c: Omit<MeshConflict, 'id'>): void {
      addConflict.run(c.path, c.copy, c.winner, c.loser, c.loserHlc, c.resolvedAt)
    },
    conflicts (limit: number): { total: number, items: MeshConflict[] } {
      return {
        total: countConflicts.get()!.n,
        items: listConflicts.all(limit).map((r) => ({ id: r.id, path: r.path, copy: r.copy, winner: r.winner, loser: r.loser, loserHlc: r.loser_hlc, resolvedAt: r.resolved_at })),
      }
    },
    /** Committed before a slice of a peer's batch touches the tree; returns its id, for endApplying in the slice's transaction. */
    beginApplying (staging: string, entries: string): number {
      return Number(beginApplying.run(staging, entries).lastInsertRowid)
    },
    endApplying (id: number): void {
      endApplying.run(id)
    },
    /** Slices a crash cut short (at start: nothing else is applying). */
    applying (): ApplyingSlice[] {
      return applying.all()
    },
    transaction<T> (fn: () => T): T {
      return inTransaction(fn) as T
    },
  }
}
