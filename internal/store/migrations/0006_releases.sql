-- Releases: a researcher's request to release moderately sensitive output
-- files, its manifest revisions, output checkers' reviews on the release
-- pull request, and the files uploaded once approved.
CREATE TABLE releases (
	id                TEXT PRIMARY KEY, -- deterministic: repository, research pull request, the comment that asked
	number            INTEGER NOT NULL, -- "release #N", per repository
	repo              TEXT NOT NULL,    -- owner/name
	installation_id   INTEGER NOT NULL,
	pr                INTEGER NOT NULL, -- the research pull request
	workspace         TEXT NOT NULL,    -- owner/name/branch
	branch            TEXT NOT NULL,    -- the research branch: released_outputs/<branch>/...
	backend           TEXT NOT NULL,
	requester         TEXT NOT NULL,
	state             TEXT NOT NULL CHECK (state IN ('pending_manifest', 'in_review', 'returned', 'approved',
		'uploading', 'released', 'rejected', 'withdrawn')),
	revision          INTEGER NOT NULL DEFAULT 1, -- the current manifest revision
	reason            TEXT NOT NULL DEFAULT '',   -- why rejected or withdrawn
	created_at        INTEGER NOT NULL,
	finished_at       INTEGER,
	release_branch    TEXT NOT NULL,              -- fivesafes/release-N
	release_pr        INTEGER NOT NULL DEFAULT 0, -- 0 until opened
	published         INTEGER NOT NULL DEFAULT 0, -- the revision whose manifest commit the release branch shows
	manifest_commit   TEXT NOT NULL DEFAULT '',   -- that commit
	released_commit   TEXT NOT NULL DEFAULT '',
	check_run_id      INTEGER NOT NULL DEFAULT 0, -- on manifest_commit
	check_run_sent    INTEGER NOT NULL DEFAULT 0,
	moving_to         TEXT NOT NULL DEFAULT '',   -- the commit the bot is moving the release branch to
	tainted           TEXT NOT NULL DEFAULT '',   -- a commit someone else pushed to the release branch
	verdict           TEXT NOT NULL DEFAULT '{}', -- JSON: the policy's last verdict, who counted and who did not
	approved_at       INTEGER,
	version           INTEGER NOT NULL DEFAULT 1, -- outbox: bumped by every change GitHub should show
	reported_version  INTEGER NOT NULL DEFAULT 0,
	UNIQUE (repo, number)
) STRICT;

CREATE INDEX releases_research_pr ON releases (repo, pr);
CREATE INDEX releases_release_pr ON releases (repo, release_pr) WHERE release_pr != 0;
CREATE INDEX releases_unreported ON releases (id) WHERE version > reported_version;

-- One row per manifest revision: what was asked and by which comment.
CREATE TABLE release_revisions (
	release_id   TEXT NOT NULL REFERENCES releases (id),
	revision     INTEGER NOT NULL,
	trigger      TEXT NOT NULL UNIQUE, -- the comment that asked: a redelivery finds its revision
	paths        TEXT NOT NULL,        -- JSON list, as resolved from what was asked
	context      TEXT NOT NULL,
	controls     TEXT NOT NULL,
	requested_by TEXT NOT NULL,
	requested_at INTEGER NOT NULL,
	PRIMARY KEY (release_id, revision)
) STRICT;

-- The manifest of each revision, as the agent found the files, and which
-- of them arrived, verified, once approved.
CREATE TABLE release_files (
	release_id  TEXT NOT NULL,
	revision    INTEGER NOT NULL,
	path        TEXT NOT NULL,
	size        INTEGER NOT NULL,
	sha256      TEXT NOT NULL,
	info        TEXT NOT NULL, -- JSON protocol.ManifestFile: type, rows, columns, findings, problem
	received_at INTEGER,       -- uploaded and matching size and SHA-256
	PRIMARY KEY (release_id, revision, path),
	FOREIGN KEY (release_id, revision) REFERENCES release_revisions (release_id, revision)
) STRICT;
