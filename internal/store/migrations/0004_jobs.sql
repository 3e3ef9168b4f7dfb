-- Runs: a job request is one /run (or trigger label) on a pull request; it
-- creates one job per action the plan runs; a task is what a backend agent
-- claims (run_job, cancel_job, prepare_release, upload_release). Times are
-- unix milliseconds.
CREATE TABLE job_requests (
	id           TEXT PRIMARY KEY,  -- deterministic: repo, PR and the comment or delivery that asked
	number       INTEGER NOT NULL,  -- "run #N", counted per repository
	repo         TEXT NOT NULL,     -- owner/name
	pr           INTEGER NOT NULL,
	workspace    TEXT NOT NULL,     -- owner/name/branch
	head_sha     TEXT NOT NULL,
	backend      TEXT NOT NULL,
	requester    TEXT NOT NULL,
	actions      TEXT NOT NULL,     -- JSON list, as requested
	force        INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	check_run_id INTEGER NOT NULL DEFAULT 0,
	status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
	finished_at  INTEGER,
	UNIQUE (repo, number)
) STRICT;

CREATE INDEX job_requests_pr ON job_requests (repo, pr, number);

CREATE TABLE jobs (
	id               TEXT PRIMARY KEY, -- plan.JobID(job_request_id, action)
	job_request_id   TEXT NOT NULL REFERENCES job_requests (id),
	action           TEXT NOT NULL,
	workspace        TEXT NOT NULL,
	backend          TEXT NOT NULL,
	state            TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
	status_code      TEXT NOT NULL,
	status_message   TEXT NOT NULL DEFAULT '',
	needs            TEXT NOT NULL DEFAULT '[]', -- JSON list of job IDs
	fingerprint      TEXT NOT NULL DEFAULT '{}', -- JSON plan.Fingerprint
	spec             TEXT NOT NULL DEFAULT '{}', -- JSON: image, args, outputs, config
	created_at       INTEGER NOT NULL,
	started_at       INTEGER,
	completed_at     INTEGER,
	exit_code        INTEGER,
	outputs          TEXT,             -- JSON outputs.Report, once finished
	timeout_ms       INTEGER NOT NULL,
	cancel_requested INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX jobs_request ON jobs (job_request_id, created_at);
CREATE INDEX jobs_workspace ON jobs (workspace, action, created_at);
CREATE INDEX jobs_waiting ON jobs (status_code) WHERE state IN ('pending', 'running');

CREATE TABLE tasks (
	seq              INTEGER PRIMARY KEY, -- queue order
	id               TEXT NOT NULL UNIQUE,
	backend          TEXT NOT NULL,
	kind             TEXT NOT NULL CHECK (kind IN ('run_job', 'cancel_job', 'prepare_release', 'upload_release')),
	job_id           TEXT REFERENCES jobs (id),
	payload          TEXT NOT NULL DEFAULT '{}',
	state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed', 'done')),
	attempt          INTEGER NOT NULL DEFAULT 1,
	lease_expires_at INTEGER,
	last_seq         INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX tasks_queue ON tasks (backend, seq) WHERE state = 'pending';
CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE state = 'claimed';
CREATE INDEX tasks_job ON tasks (job_id);
