-- The conflict copies of a path, found by the path they lost at: a deletion
-- of a conflict's winner that had not seen the loser brings the loser back
-- to the path (see src/mesh/apply-batch.ts, reinstate).
CREATE INDEX mesh_files_copy_of ON mesh_files (json_extract(copy_of, '$.path')) WHERE copy_of IS NOT NULL;
