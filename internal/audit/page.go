package audit

import (
	"context"
	"database/sql"
	"encoding/json"
)

// Query selects entries of the log for the public pages, newest first.
type Query struct {
	Repo     string   // "" for every repository
	Subjects []string // nil for every subject
	Before   int64    // entries with seq below this; 0 for the newest
	Limit    int
}

// Page returns the entries q selects, newest first.
func Page(ctx context.Context, db *sql.DB, q Query) ([]Entry, error) {
	before := q.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	subjects, err := json.Marshal(q.Subjects)
	if err != nil {
		return nil, err
	}
	return query(ctx, db, `WHERE seq < ? AND (? = '' OR repo = ?) AND (? = 'null' OR subject IN (SELECT value FROM json_each(?)))
		ORDER BY seq DESC LIMIT ?`, before, q.Repo, q.Repo, string(subjects), string(subjects), max(q.Limit, 0))
}
