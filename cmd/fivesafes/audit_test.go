package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/store"
)

// auditLog is a bot's database holding a log of 20 entries, written the way
// the bot writes them, and a configuration that names it.
type auditLog struct {
	dir     string
	config  string
	db      string
	entries []audit.Entry // entries[i] is entry i+1
}

// auditConfig is all the audit commands read of it: the database key. The
// private key it names does not exist, which would stop `fivesafes serve`.
const auditConfig = `public_url: https://bot.example.org
github:
  app_id: 42
  private_key_file: /nonexistent/fivesafes.private-key.pem
database: fivesafes.db
`

var auditKinds = []string{"config.loaded", "run.requested", "run.approved", "job.state", "job.state", "job.state",
	"job.state", "release.requested", "release.review", "release.review", "release.approved", "release.released"}

// writeAuditLog writes the log: entry i at 09:40 plus i minutes, some
// transactions holding two entries, as a state change and its record do.
func writeAuditLog(t *testing.T) auditLog {
	t.Helper()
	ctx := context.Background()
	l := auditLog{dir: t.TempDir()}
	l.config, l.db = filepath.Join(l.dir, "fivesafes.yml"), filepath.Join(l.dir, "fivesafes.db")
	if err := os.WriteFile(l.config, []byte(auditConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, l.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 12, 3, 9, 40, 0, 0, time.UTC)
	for i := 0; i < 20; {
		tx, err := db.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range min(1+i%3%2, 20-i) {
			seq := i + 1
			e, err := audit.Append(ctx, tx, base.Add(time.Duration(seq)*time.Minute), auditKinds[i%len(auditKinds)],
				[]string{"ana", "ben", "tpp", "fivesafes"}[i%4], []string{"ana/study", "ben/other", ""}[i%3],
				fmt.Sprintf("run-%d", seq/5), map[string]any{"n": seq, "status": "executing", "note": "<ok> & done"})
			if err != nil {
				t.Fatal(err)
			}
			l.entries = append(l.entries, e)
			i++
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// copyTo copies the log into a fresh directory.
func (l auditLog) copyTo(t *testing.T) auditLog {
	t.Helper()
	c := l
	c.dir = t.TempDir()
	c.config, c.db = filepath.Join(c.dir, "fivesafes.yml"), filepath.Join(c.dir, "fivesafes.db")
	for _, name := range []string{"fivesafes.yml", "fivesafes.db", "fivesafes.db-wal"} {
		data, err := os.ReadFile(filepath.Join(l.dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// tamper opens the file directly, as someone who has it can, drops the
// triggers that refuse updates and deletes, and runs change.
func (l auditLog) tamper(t *testing.T, change func(t *testing.T, db *sql.DB)) {
	t.Helper()
	db, err := sql.Open("sqlite", l.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	execSQL(`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`)(t, db)
	change(t, db)
}

func execSQL(qs ...string) func(*testing.T, *sql.DB) {
	return func(t *testing.T, db *sql.DB) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

// forgedHash is an entry's hash by the encoding the package documents, as
// someone forging an entry would compute it.
func forgedHash(prevHash string, seq int64, at, kind, actor, repo, subject, data string) string {
	var b strings.Builder
	for _, f := range []string{prevHash, fmt.Sprint(seq), at, kind, actor, repo, subject, data} {
		fmt.Fprintf(&b, "%d:%s\n", len(f), f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// rehash recomputes the hashes of entries from..to from their stored
// fields; relinked, their prev_hash is first set to the hash before them.
func rehash(from, to int64, relink bool) func(*testing.T, *sql.DB) {
	return func(t *testing.T, db *sql.DB) {
		t.Helper()
		for seq := from; seq <= to; seq++ {
			var at, kind, actor, repo, subject, data, prev string
			err := db.QueryRow(`SELECT at, kind, actor, repo, subject, data, prev_hash FROM audit_log WHERE seq = ?`, seq).
				Scan(&at, &kind, &actor, &repo, &subject, &data, &prev)
			if err != nil {
				t.Fatalf("entry %d: %v", seq, err)
			}
			if relink {
				if err := db.QueryRow(`SELECT hash FROM audit_log WHERE seq = ?`, seq-1).Scan(&prev); err != nil {
					t.Fatalf("entry %d: %v", seq-1, err)
				}
			}
			h := forgedHash(prev, seq, at, kind, actor, repo, subject, data)
			if _, err := db.Exec(`UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?`, prev, h, seq); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// swapContents gives entries a and b each other's columns, seq excepted.
func (l auditLog) swapContents(a, b int) func(*testing.T, *sql.DB) {
	return func(t *testing.T, db *sql.DB) {
		t.Helper()
		execSQL(fmt.Sprintf(`UPDATE audit_log SET hash = 'moving-%d' WHERE seq IN (%d)`, a, a),
			fmt.Sprintf(`UPDATE audit_log SET hash = 'moving-%d' WHERE seq IN (%d)`, b, b))(t, db)
		for _, p := range [][2]int{{a, b}, {b, a}} {
			e := l.entries[p[1]-1]
			_, err := db.Exec(`UPDATE audit_log SET at = ?, kind = ?, actor = ?, repo = ?, subject = ?, data = ?, prev_hash = ?, hash = ? WHERE seq = ?`,
				e.At.Format(time.RFC3339Nano), e.Kind, e.Actor, e.Repo, e.Subject, string(e.Data), e.PrevHash, e.Hash, p[0])
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func then(steps ...func(*testing.T, *sql.DB)) func(*testing.T, *sql.DB) {
	return func(t *testing.T, db *sql.DB) {
		t.Helper()
		for _, s := range steps {
			s(t, db)
		}
	}
}

func runAuditCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"audit"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// entry is how verify names entry seq of the untouched log.
func (l auditLog) entry(seq int) string {
	e := l.entries[seq-1]
	return fmt.Sprintf("entry %d (%s, %s)", seq, e.Kind, e.At.Format(time.RFC3339))
}

func (l auditLog) hash(seq int) string { return l.entries[seq-1].Hash }

func TestAuditVerifyOfAnUntouchedLog(t *testing.T) {
	t.Parallel()
	l := writeAuditLog(t)
	code, stdout, stderr := runAuditCmd(t, "verify", "--config", l.config)
	if want := "audit log verified: 20 entries, head " + l.hash(20) + "\n"; code != 0 || stdout != want || stderr != "" {
		t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit 0, %q", code, stdout, stderr, want)
	}
	code, stdout, _ = runAuditCmd(t, "verify", "--config", l.config, "--head", strings.ToUpper(l.hash(12)))
	if code != 0 || !strings.Contains(stdout, "the recorded head is entry 12: it and every entry before it are as they were") {
		t.Fatalf("with an earlier head: exit %d, %q", code, stdout)
	}
}

func TestAuditVerifyNamesTheFirstEntryTamperedWith(t *testing.T) {
	t.Parallel()
	base := writeAuditLog(t)
	e := func(seq int) audit.Entry { return base.entries[seq-1] }
	// The rows as they will read after a change, for the names verify prints.
	entry := func(seq int, kind, at string) string { return fmt.Sprintf("entry %d (%s, %s)", seq, kind, at) }
	at := func(seq int) string { return e(seq).At.Format(time.RFC3339) }
	changed := " was changed after it was written"
	cases := []struct {
		name   string
		change func(*testing.T, *sql.DB)
		head   int // entry whose hash is passed as --head; 0 for none
		code   int
		want   string
	}{
		{"at", execSQL(`UPDATE audit_log SET at = '2026-12-03T09:30:00Z' WHERE seq = 3`), 0, 1,
			entry(3, e(3).Kind, "2026-12-03T09:30:00Z") + changed},
		{"at, the same instant spelled another way", execSQL(`UPDATE audit_log SET at = '2026-12-03T09:44:00+00:00' WHERE seq = 4`), 0, 1,
			entry(4, e(4).Kind, "2026-12-03T09:44:00+00:00") + changed},
		{"kind", execSQL(`UPDATE audit_log SET kind = 'run.refused' WHERE seq = 5`), 0, 1, entry(5, "run.refused", at(5)) + changed},
		{"actor", execSQL(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 6`), 0, 1, base.entry(6) + changed},
		{"repo", execSQL(`UPDATE audit_log SET repo = 'mallory/study' WHERE seq = 7`), 0, 1, base.entry(7) + changed},
		{"subject", execSQL(`UPDATE audit_log SET subject = 'run-9' WHERE seq = 8`), 0, 1, base.entry(8) + changed},
		{"data", execSQL(`UPDATE audit_log SET data = '{"n":9,"status":"succeeded"}' WHERE seq = 9`), 0, 1, base.entry(9) + changed},
		{"data, the same JSON value spaced out", execSQL(`UPDATE audit_log SET data = replace(data, ':', ': ') WHERE seq = 10`), 0, 1, base.entry(10) + changed},
		{"prev_hash", execSQL(`UPDATE audit_log SET prev_hash = '` + strings.Repeat("f", 64) + `' WHERE seq = 11`), 0, 1, base.entry(11) + changed},
		{"hash", execSQL(`UPDATE audit_log SET hash = '` + strings.Repeat("f", 64) + `' WHERE seq = 12`), 0, 1, base.entry(12) + changed},
		{"seq", execSQL(`UPDATE audit_log SET seq = 100 WHERE seq = 13`), 0, 1, "entry 13 was removed (the log goes from entry 12 to entry 14)"},

		{"a row removed in the middle", execSQL(`DELETE FROM audit_log WHERE seq = 10`), 0, 1, "entry 10 was removed (the log goes from entry 9 to entry 11)"},
		{"the first row removed", execSQL(`DELETE FROM audit_log WHERE seq = 1`), 0, 1, "entry 1 was removed (the log starts at entry 2)"},
		{"three rows removed", execSQL(`DELETE FROM audit_log WHERE seq BETWEEN 6 AND 8`), 0, 1, "entry 6 was removed (the log goes from entry 5 to entry 9)"},
		// The chain alone cannot see a removed tail: this is what --head is for.
		{"the last row removed, no head", execSQL(`DELETE FROM audit_log WHERE seq = 20`), 0, 0,
			"audit log verified: 19 entries, head " + base.hash(19)},
		{"the last row removed, with the head", execSQL(`DELETE FROM audit_log WHERE seq = 20`), 20, 1,
			"entry 20 is missing: the log ends at " + base.entry(19) + ", and the recorded head " + base.hash(20) + " is not in it"},
		{"the last three rows removed, with an older head", execSQL(`DELETE FROM audit_log WHERE seq >= 18`), 18, 1,
			"entry 18 is missing: the log ends at " + base.entry(17)},

		{"two rows swapped, seq kept", base.swapContents(5, 6), 0, 1,
			entry(5, e(6).Kind, at(6)) + " was moved or changed: it links to entry 6, not to entry 4"},
		{"two rows swapped, seq too", execSQL(`UPDATE audit_log SET seq = -1 WHERE seq = 5`, `UPDATE audit_log SET seq = 5 WHERE seq = 12`, `UPDATE audit_log SET seq = 12 WHERE seq = -1`), 0, 1,
			entry(5, e(12).Kind, at(12)) + " was moved or changed: it links to entry 11, not to entry 4"},
		// Swapped and relinked with recomputed hashes: the break shows at the
		// first entry left alone, and verify says it cannot tell more.
		{"two rows swapped, relinked and rehashed", then(base.swapContents(5, 6), rehash(5, 6, true)), 0, 1,
			base.entry(7) + " does not link to " + entry(6, e(5).Kind, at(5)) + ": one of them, or entries before them, were rewritten with their hashes recomputed"},

		{"a forged row inserted, the rest renumbered", then(
			execSQL(`UPDATE audit_log SET seq = -seq WHERE seq >= 8`, `UPDATE audit_log SET seq = 1 - seq WHERE seq < 0`,
				`INSERT INTO audit_log VALUES (8, '2026-12-03T09:47:30Z', 'run.approved', 'mallory', 'ana/study', 'run-1', '{}', '', 'forged')`),
			rehash(8, 8, true)), 0, 1,
			entry(8, "run.approved", "2026-12-03T09:47:30Z") + " was inserted: the entry after it links to the entry before it"},
		{"a forged row inserted, the rest renumbered and rehashed", then(
			execSQL(`UPDATE audit_log SET seq = -seq WHERE seq >= 8`, `UPDATE audit_log SET seq = 1 - seq WHERE seq < 0`,
				`INSERT INTO audit_log VALUES (8, '2026-12-03T09:47:30Z', 'run.approved', 'mallory', 'ana/study', 'run-1', '{}', '', 'forged')`),
			rehash(8, 8, true), rehash(9, 21, false)), 0, 1,
			entry(8, "run.approved", "2026-12-03T09:47:30Z") + " was inserted: the entry after it links to the entry before it"},
		{"a row replaced, its hash recomputed", then(execSQL(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 9`), rehash(9, 9, false)), 0, 1,
			base.entry(10) + " does not link to " + base.entry(9) + ": one of them, or entries before them, were rewritten with their hashes recomputed"},
		// Rewritten from entry 9 on with every hash recomputed: only an
		// entry recorded elsewhere shows it.
		{"rewritten from a row on, no head", then(execSQL(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 9`), rehash(9, 20, true)), 0, 0,
			"audit log verified: 20 entries, head "},
		{"rewritten from a row on, with the head", then(execSQL(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 9`), rehash(9, 20, true)), 20, 1,
			"entry 21 is missing: the log ends at " + base.entry(20) + ", and the recorded head " + base.hash(20) + " is not in it (entries were removed from its end, or it was rewritten with every hash recomputed)"},
		// Nor can anything tell an entry forged after the recorded head.
		{"a forged row appended after the recorded head", then(
			execSQL(`INSERT INTO audit_log VALUES (21, '2026-12-03T10:01:00Z', 'run.approved', 'mallory', 'ana/study', 'run-1', '{}', '', 'forged')`),
			rehash(21, 21, true)), 20, 0, "audit log verified: 21 entries"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := base.copyTo(t)
			l.tamper(t, tc.change)
			args := []string{"verify", "--config", l.config}
			if tc.head > 0 {
				args = append(args, "--head", l.hash(tc.head))
			}
			code, stdout, stderr := runAuditCmd(t, args...)
			if code != tc.code || !strings.Contains(stdout, tc.want) || stderr != "" {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit %d with %q", code, stdout, stderr, tc.code, tc.want)
			}
			if code == 1 && !strings.HasPrefix(stdout, "audit log chain broken: entry ") {
				t.Errorf("stdout %q does not start by naming the entry", stdout)
			}
		})
	}
}

func TestAuditExportWritesEveryEntry(t *testing.T) {
	t.Parallel()
	l := writeAuditLog(t)
	code, stdout, stderr := runAuditCmd(t, "export", "--config", l.config)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.SplitAfter(stdout, "\n")
	if lines[len(lines)-1] != "" || len(lines)-1 != len(l.entries) {
		t.Fatalf("%d lines, want %d, each ending in a newline:\n%s", len(lines)-1, len(l.entries), stdout)
	}
	for i, line := range lines[:len(lines)-1] {
		var got audit.Entry
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v\n%s", i+1, err, line)
		}
		w := l.entries[i]
		if got.Seq != w.Seq || !got.At.Equal(w.At) || got.Kind != w.Kind || got.Actor != w.Actor || got.Repo != w.Repo ||
			got.Subject != w.Subject || string(got.Data) != string(w.Data) || got.PrevHash != w.PrevHash || got.Hash != w.Hash {
			t.Errorf("line %d is\n%+v\nwant\n%+v", i+1, got, w)
		}
		if h := forgedHash(got.PrevHash, got.Seq, got.At.Format(time.RFC3339Nano), got.Kind, got.Actor, got.Repo, got.Subject, string(got.Data)); h != got.Hash {
			t.Errorf("line %d: its fields hash to %s, not its hash %s", i+1, h, got.Hash)
		}
	}
	if !strings.Contains(lines[0], `"data":{"n":1,"note":"\u003cok\u003e \u0026 done","status":"executing"}`) {
		t.Errorf("data is not the stored JSON object: %s", lines[0])
	}

	code, stdout, _ = runAuditCmd(t, "export", "--config", l.config, "--after", "15")
	if code != 0 || strings.Count(stdout, "\n") != 5 || !strings.HasPrefix(stdout, `{"seq":16,"at":"`+l.entries[15].At.Format(time.RFC3339)+`",`) {
		t.Errorf("export --after 15: exit %d\n%s", code, stdout)
	}
}

// The commands open the database read-only: the file is the same after
// them, and a write through their connection fails.
func TestAuditCommandsDoNotWrite(t *testing.T) {
	t.Parallel()
	l := writeAuditLog(t)
	before, err := os.ReadFile(l.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"verify", "--config", l.config}, {"export", "--config", l.config}} {
		if code, _, stderr := runAuditCmd(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	db, err := openLog(context.Background(), l.config)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE x (y)`); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("a write through the audit command's connection: %v, want a read-only refusal", err)
	}
	after, err := os.ReadFile(l.db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the database file changed")
	}
}

// The bot keeps appending while an operator verifies: verify sees a
// snapshot, including what is still in the write-ahead log.
func TestAuditVerifyWhileTheBotRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := writeAuditLog(t)
	db, err := store.Open(ctx, l.db, store.WithCheckpointInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 3 {
		head, err := audit.RecordConfig(ctx, db.W, time.Now(), strings.Repeat(fmt.Sprint(i), 64))
		if err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runAuditCmd(t, "verify", "--config", l.config)
		if want := fmt.Sprintf("audit log verified: %d entries, head %s\n", head.Seq, head.Hash); code != 0 || stdout != want {
			t.Fatalf("exit %d, %q (stderr %q), want %q", code, stdout, stderr, want)
		}
	}
}

func TestAuditUsage(t *testing.T) {
	t.Parallel()
	l := writeAuditLog(t)
	empty := filepath.Join(l.dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	configFor := func(name, yml string) string {
		p := filepath.Join(l.dir, name)
		if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noDB := configFor("nodb.yml", "database: missing.db\n")
	notAudit := configFor("empty.yml", "database: empty.db\n")
	memory := configFor("memory.yml", "database: ':memory:'\n")
	cases := map[string]struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		"no subcommand":       {args: nil, code: 2, stderr: "Usage: fivesafes audit verify"},
		"help":                {args: []string{"-h"}, code: 0, stdout: auditUsage},
		"verify help":         {args: []string{"verify", "-h"}, code: 0, stdout: auditVerifyUsage},
		"export help":         {args: []string{"export", "--help"}, code: 0, stdout: auditExportUsage},
		"unknown subcommand":  {args: []string{"check"}, code: 2, stderr: `unknown command "check"`},
		"unknown flag":        {args: []string{"verify", "--tail"}, code: 2, stderr: "flag provided but not defined: -tail"},
		"an argument":         {args: []string{"verify", l.config}, code: 2, stderr: "unexpected argument"},
		"missing config":      {args: []string{"verify", "--config", filepath.Join(l.dir, "nope.yml")}, code: 2, stderr: "read configuration"},
		"default config":      {args: []string{"export"}, code: 2, stderr: "fivesafes.yml"},
		"no database":         {args: []string{"verify", "--config", noDB}, code: 2, stderr: "missing.db does not exist"},
		"not the bot's":       {args: []string{"export", "--config", notAudit}, code: 2, stderr: "empty.db has no audit log"},
		"in memory":           {args: []string{"verify", "--config", memory}, code: 2, stderr: "is not a file"},
		"head not a hash":     {args: []string{"verify", "--config", l.config, "--head", "abc"}, code: 2, stderr: `recorded head "abc" is not an entry hash`},
		"negative after":      {args: []string{"export", "--config", l.config, "--after", "-1"}, code: 2, stderr: "--after -1"},
		"after past the end":  {args: []string{"export", "--config", l.config, "--after", "99"}, code: 0},
		"listed in the usage": {args: []string{"-h"}, code: 0, stdout: "export   write the log as JSON lines"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runAuditCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit %d, %q / %q", code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
			}
			if tc.code == 0 && stderr != "" || tc.code == 2 && stdout != "" {
				t.Errorf("stdout %q, stderr %q: output on the wrong stream", stdout, stderr)
			}
		})
	}
	var out bytes.Buffer
	run(context.Background(), nil, &out, &out)
	if !strings.Contains(out.String(), "audit ") {
		t.Errorf("fivesafes usage does not list audit:\n%s", out.String())
	}
}
