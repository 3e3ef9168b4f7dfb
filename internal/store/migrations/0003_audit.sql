-- The permanent log: every decision, append-only, each entry chained to the
-- one before by SHA-256 so that a change or a removal can be proven.
CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,  -- 1, 2, 3 ... without gaps
	at        TEXT NOT NULL,        -- RFC 3339, UTC
	kind      TEXT NOT NULL,        -- e.g. run.requested, run.refused, job.state
	actor     TEXT NOT NULL,        -- GitHub login, "fivesafes", or a backend name
	repo      TEXT NOT NULL,        -- owner/name, or "" for entries about no repository
	subject   TEXT NOT NULL,        -- what the entry is about: a run, job or release ID
	data      TEXT NOT NULL,        -- JSON, stored exactly as hashed
	prev_hash TEXT NOT NULL,        -- hash of entry seq-1; 64 zeros for the first
	hash      TEXT NOT NULL UNIQUE
) STRICT;

CREATE INDEX audit_log_repo ON audit_log (repo, seq);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- Nothing may change or remove an entry, not even by mistake.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
