-- Every filter of GET /v1/jobs, alone or in the usual combinations, gets an
-- index that ends in id, so a filtered page is an index walk newest first
-- even when the matches are few among a million rows (the benchmark's
-- target+kind+status query walked every failed job of the target before).
CREATE INDEX jobs_by_kind               ON jobs (kind, id);
CREATE INDEX jobs_by_kind_status        ON jobs (kind, status, id);
CREATE INDEX jobs_by_trigger            ON jobs (trigger, id);
CREATE INDEX jobs_by_target_status      ON jobs (target, status, id);
CREATE INDEX jobs_by_target_kind_status ON jobs (target, kind, status, id);
