-- migrate: foreign_keys=off
-- Runs on GitHub: a job request may be held for a maintainer's approval, it
-- remembers the plan it showed, and it keeps an outbox of what GitHub (its
-- check run, the pull request's status comment) has not been shown yet.
--
-- SQLite cannot change a CHECK constraint in place, so job_requests is
-- rebuilt the way SQLite's documentation says: with foreign keys off, a new
-- table, a copy, the old one dropped and the new one renamed; the migration
-- runner then checks that every foreign key still holds.
CREATE TABLE job_requests_0005 (
	id                    TEXT PRIMARY KEY,
	number                INTEGER NOT NULL,
	repo                  TEXT NOT NULL,
	installation_id       INTEGER NOT NULL DEFAULT 0,
	pr                    INTEGER NOT NULL,
	workspace             TEXT NOT NULL,
	head_sha              TEXT NOT NULL,
	backend               TEXT NOT NULL,
	requester             TEXT NOT NULL,
	actions               TEXT NOT NULL,
	force                 INTEGER NOT NULL DEFAULT 0,
	created_at            INTEGER NOT NULL,
	check_run_id          INTEGER NOT NULL DEFAULT 0,
	-- held: waiting for a maintainer's approval; stale: a push came first;
	-- withdrawn: cancelled while held. The others as before.
	status                TEXT NOT NULL DEFAULT 'running'
		CHECK (status IN ('held', 'stale', 'withdrawn', 'running', 'succeeded', 'failed')),
	finished_at           INTEGER,
	plan                  TEXT NOT NULL DEFAULT '[]', -- JSON: each action's step (run, reuse, wait) and why
	hold_reason           TEXT NOT NULL DEFAULT '', -- why a held request waits
	approved_by           TEXT NOT NULL DEFAULT '',
	approval_check_run_id INTEGER NOT NULL DEFAULT 0, -- the action_required run with the "Approve run" button
	approval_closed       INTEGER NOT NULL DEFAULT 0, -- its button is gone and it says what became of the run
	-- A create of the check run (or of the approval check run) went out and
	-- its answer may be lost: look for it before creating another.
	check_run_sent        INTEGER NOT NULL DEFAULT 0,
	approval_sent         INTEGER NOT NULL DEFAULT 0,
	version               INTEGER NOT NULL DEFAULT 1, -- bumped by every change GitHub should show
	reported_version      INTEGER NOT NULL DEFAULT 0, -- the version GitHub shows
	reported_at           INTEGER,
	UNIQUE (repo, number)
) STRICT;

INSERT INTO job_requests_0005 (id, number, repo, pr, workspace, head_sha, backend, requester, actions, force,
	created_at, check_run_id, status, finished_at)
SELECT id, number, repo, pr, workspace, head_sha, backend, requester, actions, force,
	created_at, check_run_id, status, finished_at FROM job_requests;
DROP TABLE job_requests;
ALTER TABLE job_requests_0005 RENAME TO job_requests;

CREATE INDEX job_requests_pr ON job_requests (repo, pr, number);
CREATE INDEX job_requests_unreported ON job_requests (id) WHERE version > reported_version;

-- The status comment the bot keeps on each pull request with runs, edited
-- in place, and its outbox.
CREATE TABLE pr_status (
	repo             TEXT NOT NULL,
	pr               INTEGER NOT NULL,
	installation_id  INTEGER NOT NULL,
	comment_id       INTEGER NOT NULL DEFAULT 0,
	comment_sent     INTEGER NOT NULL DEFAULT 0, -- a create went out whose answer may be lost: look before sending again
	version          INTEGER NOT NULL DEFAULT 1,
	reported_version INTEGER NOT NULL DEFAULT 0,
	reported_at      INTEGER,
	PRIMARY KEY (repo, pr)
) STRICT;

CREATE INDEX pr_status_unreported ON pr_status (repo, pr) WHERE version > reported_version;

-- Replies to comments (refusals, /help), so that a retried or redelivered
-- comment is answered once.
CREATE TABLE replies (
	key        TEXT PRIMARY KEY, -- owner/repo#pr/comment-id/line, or the delivery
	comment_id INTEGER NOT NULL DEFAULT 0, -- 0: sent, answer not recorded: look before sending again
	created_at INTEGER NOT NULL
) STRICT;
