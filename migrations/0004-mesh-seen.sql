-- What a node has seen of a path can be more than the version it holds: a
-- deletion its version outlived (an update against a concurrent delete), the
-- other side of a conflict (kept under a copy name), a directory's deletion
-- it could not apply yet. `vv` stays the held version's own vector, which is
-- what a peer's version or deletion is weighed against (has it seen what is
-- here?); `seen` (null: the same as vv) is everything known here: entries it
-- covers are stale, and this node's next version of the path starts from it.
ALTER TABLE mesh_files ADD COLUMN seen TEXT;
