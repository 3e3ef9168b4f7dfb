package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/config"
)

const auditUsage = `Usage: fivesafes audit verify [--config FILE] [--head HASH]
       fivesafes audit export [--config FILE] [--after SEQ]

The audit log is the bot's permanent record of its decisions, each entry
chained to the one before by SHA-256.

  verify   check that no entry was changed, removed, inserted or reordered
  export   write the log as JSON lines

Both open the database the configuration names read-only, so they are safe
while the bot runs, and read only its database key: they need neither the
GitHub App's private key nor the webhook secrets.

Run 'fivesafes audit verify -h' or 'fivesafes audit export -h' for details.
`

const auditVerifyUsage = `Usage: fivesafes audit verify [--config FILE] [--head HASH]

Walk the audit log from its first entry and check that every entry is as it
was written: its own hash matches its fields, it links to the entry before,
and no entry is missing. The first entry that is not is named, with what the
chain can tell about it (changed, removed, inserted or moved).

The chain alone cannot see entries removed from the end of the log, nor a
log rewritten from some entry on with every hash recomputed by someone who
has the database file. Without --head, such tampering is undetectable. Keep
the head this command prints (or the one the bot logs at start as "audit log
head", or the last line of an export) somewhere the bot's machine cannot
change, and pass it back with --head: verify then fails unless that entry is
still in the log, with everything before it unchanged. Entries appended
after the recorded head are only as good as the chain.

Exit status: 0 verified, 1 the log was tampered with, 2 usage or I/O error.

Flags:
  --config FILE   the bot's configuration (default fivesafes.yml)
  --head HASH     the hash of an entry recorded earlier (64 hex digits)
`

const auditExportUsage = `Usage: fivesafes audit export [--config FILE] [--after SEQ]

Write the audit log to standard output as JSON lines, oldest first, one
entry a line, each field exactly as stored:

  {"seq":1,"at":"...","kind":"...","actor":"...","repo":"...","subject":"...",
   "data":{...},"prev_hash":"...","hash":"..."}

An entry's hash is the SHA-256 of, for each of prev_hash, seq, at, kind,
actor, repo, subject and data: its length in bytes, ":", its bytes, "\n".
So the chain can be checked again from an export alone. Export does not
verify; run 'fivesafes audit verify' for that.

Exit status: 0 written, 2 usage or I/O error.

Flags:
  --config FILE   the bot's configuration (default fivesafes.yml)
  --after SEQ     only entries after this one (default 0: all)
`

// runAudit is `fivesafes audit`.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, auditUsage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, auditUsage)
		return 0
	case "verify":
		return runAuditVerify(ctx, args[1:], stdout, stderr)
	case "export":
		return runAuditExport(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "fivesafes audit: unknown command %q\n\n%s", args[0], auditUsage)
	return 2
}

func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	configPath := flags.String("config", "fivesafes.yml", "")
	head := flags.String("head", "", "")
	if code, ok := parseAuditFlags(flags, args, auditVerifyUsage, stdout, stderr); !ok {
		return code
	}
	db, err := openLog(ctx, *configPath)
	if err != nil {
		fmt.Fprintf(stderr, "fivesafes audit verify: %v\n", err)
		return 2
	}
	defer db.Close()
	v, err := audit.VerifyChain(ctx, db, audit.VerifyOptions{Head: *head})
	if errors.Is(err, audit.ErrBroken) {
		fmt.Fprintln(stdout, err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "fivesafes audit verify: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "audit log verified: %d entries, head %s\n", v.Entries, v.Head)
	if v.HeadSeq > 0 {
		fmt.Fprintf(stdout, "the recorded head is entry %d: it and every entry before it are as they were when it was recorded\n", v.HeadSeq)
	}
	return 0
}

func runAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("audit export", flag.ContinueOnError)
	configPath := flags.String("config", "fivesafes.yml", "")
	after := flags.Int64("after", 0, "")
	if code, ok := parseAuditFlags(flags, args, auditExportUsage, stdout, stderr); !ok {
		return code
	}
	if *after < 0 {
		fmt.Fprintf(stderr, "fivesafes audit export: --after %d: want an entry's seq, 0 or more\n", *after)
		return 2
	}
	db, err := openLog(ctx, *configPath)
	if err != nil {
		fmt.Fprintf(stderr, "fivesafes audit export: %v\n", err)
		return 2
	}
	defer db.Close()
	if _, err := audit.Export(ctx, db, stdout, *after); err != nil {
		fmt.Fprintf(stderr, "fivesafes audit export: %v\n", err)
		return 2
	}
	return 0
}

// parseAuditFlags parses args; when it returns false the command exits with
// code (0 after -h).
func parseAuditFlags(flags *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (int, bool) {
	flags.SetOutput(io.Discard)
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0, false
		}
		fmt.Fprintf(stderr, "fivesafes %s: %v\n\n%s", flags.Name(), err, usage)
		return 2, false
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "fivesafes %s: unexpected argument %q\n\n%s", flags.Name(), flags.Arg(0), usage)
		return 2, false
	}
	return 0, true
}

// openLog opens the database the configuration at configPath names, for
// reading only: SQLite's mode=ro (no write can reach the file, and a missing
// file is not created) with query_only on top, and no migrations, so that
// auditing cannot change what it audits, even while the bot runs.
func openLog(ctx context.Context, configPath string) (*sql.DB, error) {
	path, err := config.DatabasePath(configPath)
	if err != nil {
		return nil, err
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("database %q in %s is not a file; the audit log is in the bot's database file", path, configPath)
	}
	switch info, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("database %s does not exist (named by %s; has the bot run yet?)", path, configPath)
	case err != nil:
		return nil, fmt.Errorf("database %s: %w", path, err)
	case info.IsDir():
		return nil, fmt.Errorf("database %s is a directory (named by %s)", path, configPath)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	dsn := url.URL{Scheme: "file", OmitHost: true, Path: filepath.ToSlash(abs),
		RawQuery: url.Values{"mode": {"ro"}, "_query_only": {"on"}, "_busy_timeout": {"5000"}}.Encode()}
	db, err := sql.Open("sqlite", dsn.String())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	var tables int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'audit_log'`).Scan(&tables)
	switch {
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	case tables == 0:
		db.Close()
		return nil, fmt.Errorf("database %s has no audit log; is it the bot's database?", path)
	}
	return db, nil
}
