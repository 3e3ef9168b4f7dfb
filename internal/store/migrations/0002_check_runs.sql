-- How far each project.yaml check run got, so that a retry or a restart
-- resumes it without sending an annotation batch twice.
CREATE TABLE check_run_progress (
	key          TEXT PRIMARY KEY,   -- owner/repo@sha[#attempt]
	check_run_id INTEGER NOT NULL,
	batches_sent INTEGER NOT NULL DEFAULT 0,
	completed    INTEGER NOT NULL DEFAULT 0,
	updated_at   TEXT NOT NULL
) STRICT;
