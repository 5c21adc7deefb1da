-- Every rsync run, one row. Times are Unix epoch milliseconds.
CREATE TABLE jobs (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  target            TEXT    NOT NULL,
  kind              TEXT    NOT NULL CHECK (kind IN ('incremental', 'full')),
  trigger           TEXT    NOT NULL,
  status            TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'interrupted')),
  attempt           INTEGER NOT NULL DEFAULT 1,
  paths_count       INTEGER NOT NULL DEFAULT 0,
  paths_truncated   INTEGER NOT NULL DEFAULT 0,
  files_transferred INTEGER,
  bytes_transferred INTEGER,
  exit_code         INTEGER,
  error             TEXT,
  warning           TEXT,
  requested_by      TEXT,
  created_at        INTEGER NOT NULL,
  started_at        INTEGER,
  finished_at       INTEGER,
  duration_ms       INTEGER
);
-- Listing is newest first (id DESC) with optional filters; each index leads
-- with the filter and ends in id so keyset pagination stays an index walk.
CREATE INDEX jobs_by_target  ON jobs (target, id);
CREATE INDEX jobs_by_status  ON jobs (status, id);
CREATE INDEX jobs_by_created ON jobs (created_at, id);

-- The paths a job carried, capped per job (jobs.paths_truncated says so).
CREATE TABLE job_paths (
  job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  path   TEXT    NOT NULL,
  PRIMARY KEY (job_id, path)
) WITHOUT ROWID;
CREATE INDEX job_paths_by_path ON job_paths (path, job_id);

-- The journal of changes not yet confirmed by a target. A row leaves only
-- when an rsync run that carried this path (at this seq or later) succeeded.
CREATE TABLE pending (
  target      TEXT    NOT NULL,
  path        TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  observed_at INTEGER NOT NULL,
  PRIMARY KEY (target, path)
) WITHOUT ROWID;

-- Small durable flags, e.g. whether watching is paused.
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
