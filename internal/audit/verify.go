package audit

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBroken is wrapped by every *BrokenError.
var ErrBroken = errors.New("audit log chain broken")

// BrokenError names the first entry that is not as it was written.
type BrokenError struct {
	Seq     int64
	Kind    string // the entry's kind and time as stored now; "" when it is missing
	At      string
	Problem string // a predicate: "was changed after it was written"
}

func (e *BrokenError) Error() string {
	if e.Kind == "" && e.At == "" {
		return fmt.Sprintf("%v: entry %d %s", ErrBroken, e.Seq, e.Problem)
	}
	return fmt.Sprintf("%v: entry %d (%s, %s) %s", ErrBroken, e.Seq, shown(e.Kind), shown(e.At), e.Problem)
}

func (e *BrokenError) Unwrap() error { return ErrBroken }

// VerifyOptions are checks beyond the chain itself.
type VerifyOptions struct {
	// Head is the hash of an entry recorded earlier outside the database
	// (printed by `fivesafes audit verify`, logged by the bot at start, the
	// last line of an export). The chain alone cannot show that entries were
	// removed from its end, nor that someone with the file rewrote it from
	// some entry on with every hash recomputed; a recorded entry that must
	// still be there can. "" skips the check.
	Head string
}

// Head is the last entry of the log, by seq and hash: what an operator
// records outside the database to check later (VerifyOptions.Head) that
// nothing was removed from the end or rewritten.
type Head struct {
	Seq  int64
	Hash string
}

// Verified is what VerifyChain checked.
type Verified struct {
	Entries int64  // entries 1 to Entries hold together
	Head    string // the hash of entry Entries; 64 zeros for an empty log
	HeadSeq int64  // the entry VerifyOptions.Head is; 0 when none was given
}

// Verify walks the whole log and checks every link. It returns how many
// entries it checked; see VerifyChain.
func Verify(ctx context.Context, db *sql.DB) (int64, error) {
	v, err := VerifyChain(ctx, db, VerifyOptions{})
	return v.Entries, err
}

// VerifyChain walks the whole log, oldest first, holding one entry at a
// time, and checks that each entry follows the one before (seq one more,
// prev_hash its hash) and hashes to its own hash. The first entry that does
// not comes back as a *BrokenError, which says whether it was changed,
// removed, inserted or moved as far as the chain can tell; other errors are
// I/O. VerifyChain only reads.
func VerifyChain(ctx context.Context, db *sql.DB, opts VerifyOptions) (Verified, error) {
	head := strings.ToLower(opts.Head)
	if head != "" && !isHash(head) {
		return Verified{}, fmt.Errorf("recorded head %q is not an entry hash: want 64 hex digits", opts.Head)
	}
	var (
		h        hasher
		v        = Verified{Head: genesis}
		last     = row{hash: genesis} // the last entry that held; seq 0 is the start
		unlinked row
	)
	err := walk(ctx, db, 0, func(r *row) error {
		switch {
		case r.seq != last.seq+1:
			return &BrokenError{Seq: last.seq + 1, Problem: removed(last.seq, r.seq)}
		case r.prevHash != last.hash:
			unlinked = *r
			return errUnlinked
		case string(h.hash(r.prevHash, r.seq, r.at, r.kind, r.actor, r.repo, r.subject, r.data)) != r.hash:
			return broken(r, "was changed after it was written")
		}
		if r.hash == head {
			v.HeadSeq = r.seq
		}
		last = *r
		v.Entries, v.Head = r.seq, r.hash
		return nil
	})
	if errors.Is(err, errUnlinked) {
		err = diagnoseLink(ctx, db, &h, &last, &unlinked)
	}
	if err == nil && head != "" && v.HeadSeq == 0 {
		ends := "the log is empty"
		if last.seq > 0 {
			ends = fmt.Sprintf("the log ends at entry %d (%s, %s)", last.seq, shown(last.kind), shown(last.at))
		}
		err = &BrokenError{Seq: last.seq + 1, Problem: fmt.Sprintf("is missing: %s, and the recorded head %s is not in it "+
			"(entries were removed from its end, or it was rewritten with every hash recomputed)", ends, head)}
	}
	return v, err
}

// errUnlinked stops the walk at an entry whose prev_hash is not the hash of
// the entry before; diagnoseLink then looks around, with the rows closed.
var errUnlinked = errors.New("unlinked")

// diagnoseLink says what happened at r, which does not link to last.
func diagnoseLink(ctx context.Context, db *sql.DB, h *hasher, last, r *row) error {
	if last.seq > 0 && r.prevHash == last.prevHash {
		return broken(last, "was inserted: the entry after it links to the entry before it")
	}
	var linked int64
	err := db.QueryRowContext(ctx, `SELECT seq FROM audit_log WHERE hash = ?`, r.prevHash).Scan(&linked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read audit log: %w", err)
	}
	if err == nil && linked != r.seq {
		return broken(r, fmt.Sprintf("was moved or changed: it links to entry %d, not to entry %d", linked, r.seq-1))
	}
	if string(h.hash(r.prevHash, r.seq, r.at, r.kind, r.actor, r.repo, r.subject, r.data)) != r.hash {
		return broken(r, "was changed after it was written")
	}
	if last.seq == 0 {
		return broken(r, "does not link to the start of the chain: it was rewritten with its hash recomputed")
	}
	return broken(r, fmt.Sprintf("does not link to entry %d (%s, %s): one of them, or entries before them, "+
		"were rewritten with their hashes recomputed", last.seq, shown(last.kind), shown(last.at)))
}

func broken(r *row, problem string) *BrokenError {
	return &BrokenError{Seq: r.seq, Kind: r.kind, At: r.at, Problem: problem}
}

func removed(last, next int64) string {
	if last == 0 {
		return fmt.Sprintf("was removed (the log starts at entry %d)", next)
	}
	return fmt.Sprintf("was removed (the log goes from entry %d to entry %d)", last, next)
}

// isHash reports whether s is a SHA-256 in lower-case hex, as entry hashes are.
func isHash(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// shown is a stored string fit for a terminal: the log holds whatever was
// written to the file, so anything unusual is quoted and cut short.
func shown(s string) string {
	const most = 64
	plain := len(s) <= most && utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) }) < 0
	if plain && s != "" {
		return s
	}
	if len(s) > most {
		s = s[:most] + "..."
	}
	return strconv.QuoteToGraphic(s)
}
