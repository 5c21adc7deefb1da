-- `seen` merges everything known of a path, so it cannot say whether a
-- version in it was overwritten or deleted somewhere, or only lost a conflict
-- (its copy kept) and may come back when the winner is deleted. `dead` (null:
-- none) covers the versions some node's later version or deletion had seen:
-- those never come back (see src/mesh/version-row.ts, survivorOf).
ALTER TABLE mesh_files ADD COLUMN dead TEXT;
