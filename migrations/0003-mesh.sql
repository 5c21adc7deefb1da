-- The mesh (every node a source). One row per path this node knows of: the
-- version it holds (a version vector, the hybrid clock and origin of the
-- version) and, for a present path, this node's own stat of it, which tells
-- a local change from the echo of a version a peer sent (same stat: no
-- change). A deleted path keeps its row as a tombstone, so a version the
-- deleting node had seen never comes back.
CREATE TABLE mesh_files (
  path     TEXT PRIMARY KEY,
  kind     TEXT NOT NULL CHECK (kind IN ('file', 'dir')),
  deleted  INTEGER NOT NULL DEFAULT 0,
  vv       TEXT NOT NULL,
  hlc      INTEGER NOT NULL,
  origin   TEXT NOT NULL,
  size     INTEGER,
  mtime_ns TEXT,
  ino      TEXT,
  -- On a conflict copy: JSON {path, winner}, the path it lost at and the node that won.
  copy_of  TEXT
);

-- What each peer is still owed: one row per peer and path (a newer change of
-- the path replaces the older, whose version is superseded anyway). A row
-- goes only when the peer acknowledged the version sent for that seq, so a
-- peer down for hours loses nothing.
CREATE TABLE mesh_outbox (
  peer TEXT NOT NULL,
  path TEXT NOT NULL,
  seq  INTEGER NOT NULL,
  PRIMARY KEY (peer, path)
);
CREATE INDEX mesh_outbox_by_seq ON mesh_outbox (peer, seq);

-- Every conflict this node resolved: where the losing version was kept.
CREATE TABLE mesh_conflicts (
  id           INTEGER PRIMARY KEY,
  path         TEXT NOT NULL,
  copy         TEXT NOT NULL UNIQUE,
  winner       TEXT NOT NULL,
  loser        TEXT NOT NULL,
  loser_hlc    INTEGER NOT NULL,
  resolved_at  INTEGER NOT NULL
);
