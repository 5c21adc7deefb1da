-- Every filter of GET /v1/jobs, alone or with a target, gets an index that
-- ends in id, so a filtered page is an index walk newest first even when the
-- matches are few among a million rows (measured by the benchmark: a
-- target+kind+status query walked every failed job before these).
CREATE INDEX jobs_by_kind           ON jobs (kind, id);
CREATE INDEX jobs_by_trigger        ON jobs (trigger, id);
CREATE INDEX jobs_by_target_status  ON jobs (target, status, id);
CREATE INDEX jobs_by_target_kind    ON jobs (target, kind, id);
