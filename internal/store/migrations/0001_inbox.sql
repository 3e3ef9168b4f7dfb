-- The durable webhook inbox: every delivery GitHub sent, stored before it is
-- acknowledged. seq (the rowid) is the receipt order: a new row always gets a
-- seq above every existing one, and rows are inserted in commit order.
-- payload comes last: reading the columns before it never touches the
-- overflow pages a large payload spills onto.
CREATE TABLE deliveries (
	seq             INTEGER PRIMARY KEY,
	guid            TEXT    NOT NULL UNIQUE, -- X-GitHub-Delivery
	event           TEXT    NOT NULL,
	action          TEXT    NOT NULL DEFAULT '',
	installation_id INTEGER NOT NULL DEFAULT 0,
	repo            TEXT    NOT NULL DEFAULT '', -- owner/name
	order_key       TEXT    NOT NULL, -- deliveries sharing a key are handled one at a time, in seq order
	received_at     INTEGER NOT NULL, -- unix milliseconds
	status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL, -- unix milliseconds; due when <= now
	last_error      TEXT    NOT NULL DEFAULT '',
	finished_at     INTEGER,          -- unix milliseconds, once done or failed
	payload         BLOB    NOT NULL
) STRICT;

-- The unfinished deliveries by queue: the head of each order key's queue and
-- when it is due, without touching the table.
CREATE INDEX deliveries_pending ON deliveries (order_key, seq, next_attempt_at) WHERE status = 'pending';
