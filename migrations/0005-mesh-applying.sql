-- A slice of a peer's batch being applied: written (and committed) before the
-- slice touches the tree, removed in the transaction that records what the
-- slice did. A row left at start means the process died in between: files
-- may be in place with no version recorded for them, and a local deletion of
-- one while the node was down would go unnoticed (the file would come back
-- from the peer). `entries` is JSON [{entry, ino}]: each file entry with the
-- inode of its staged copy, which an install links into place unchanged.
CREATE TABLE mesh_applying (
  id      INTEGER PRIMARY KEY,
  staging TEXT NOT NULL,
  entries TEXT NOT NULL
);
