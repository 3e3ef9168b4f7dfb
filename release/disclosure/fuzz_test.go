package disclosure

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// maxMessageBytes bounds a finding's message: a column name of 64 runes
// (each at most 4 bytes, a quote or backslash escaped) and the words.
const maxMessageBytes = 512

var knownChecks = []string{protocol.CheckSmallCount, protocol.CheckUnroundedCount,
	protocol.CheckTooManyRows, protocol.CheckPatientIDColumn, protocol.CheckFileType}

// rowList is the row numbers a count finding names.
var rowList = regexp.MustCompile(`\(rows? ([0-9]+(?:, [0-9]+)*)(?: and [0-9]+ more)?\)$`)

func FuzzInspect(f *testing.F) {
	for _, seed := range []struct{ name, data string }{
		{"output/t.csv", "group,n\na,3\nb,10\nc,1\nd,0\n"},
		{"output/t.csv", "\ufeffpatient_id,n\r\n1,\"2\"\r\n"},
		{"output/t.csv", "\"a\nb\",c\r\n1,\"\"\"\"\n\"unterminated"},
		{"output/t.csv", "a,b\n1\n10,20,3\n\n\n"},
		{"output/t.csv", "n\n3.0\n 5 \n+4\n-3\n2.5\n1e3\n"},
		{"output/T.CSV", "x\ry\r5\r"},
		{"output/plot.png", "\x89PNG\r\n\x1a\n"},
		{"output/model.rds", "n\n3\n"},
		{"output/.csv", ""},
		{"output/x.\u202eexe", "\x00"},
	} {
		f.Add(seed.name, []byte(seed.data))
	}
	lim := testLimits()
	lim.MaxRows = 3 // small, so that random tables cross it
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		got, err := Inspect(name, bytes.NewReader(data), lim)
		if err != nil {
			t.Fatalf("error from a reader that has none: %v", err)
		}
		again, _ := Inspect(name, iotest.HalfReader(bytes.NewReader(data)), lim)
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("depends on how the bytes arrive:\n%s\nthen\n%s", show(got), show(again))
		}
		checkWellFormed(t, got)

		suffix := outputs.Suffix(name)
		allowed := slices.ContainsFunc(lim.AllowedTypes, func(s string) bool { return strings.EqualFold(s, suffix) })
		if has(got, protocol.CheckFileType) == allowed {
			t.Fatalf("type %q (allowed %v): %s", suffix, allowed, show(got))
		}
		if !strings.EqualFold(suffix, ".csv") {
			if got.Rows != nil || got.Columns != nil || len(got.Findings) > 1 {
				t.Fatalf("not a CSV, yet: %s", show(got))
			}
			return
		}
		if got.Rows == nil || got.Columns == nil || *got.Rows < 0 || *got.Columns < 0 || *got.Columns == 0 && *got.Rows > 0 {
			t.Fatalf("CSV shape: %s", show(got))
		}
		if has(got, protocol.CheckTooManyRows) != (*got.Rows > lim.MaxRows) {
			t.Fatalf("%d rows, limit %d: %s", *got.Rows, lim.MaxRows, show(got))
		}
		for _, fd := range got.Findings {
			m := rowList.FindStringSubmatch(fd.Message)
			if m == nil {
				continue
			}
			for n := range strings.SplitSeq(m[1], ", ") {
				if row, _ := strconv.Atoi(n); row < 1 || row > *got.Rows {
					t.Fatalf("finding names row %d of %d: %q", row, *got.Rows, fd.Message)
				}
			}
		}
		compareWithEncodingCSV(t, data, lim)
	})
}

func has(f Facts, check string) bool {
	return slices.ContainsFunc(f.Findings, func(x protocol.Finding) bool { return x.Check == check })
}

// checkWellFormed: findings are known checks with one line of printable
// text of bounded length; the type is short and printable.
func checkWellFormed(t *testing.T, f Facts) {
	t.Helper()
	if f.Findings == nil {
		t.Fatal("findings are nil")
	}
	if len(f.Type) > maxTypeBytes || !printable(f.Type) {
		t.Fatalf("type %q", f.Type)
	}
	perCheck := map[string]int{}
	for _, x := range f.Findings {
		if !slices.Contains(knownChecks, x.Check) {
			t.Fatalf("unknown check %q", x.Check)
		}
		if x.Message == "" || len(x.Message) > maxMessageBytes || !printable(x.Message) {
			t.Fatalf("message %q (%d bytes)", x.Message, len(x.Message))
		}
		perCheck[x.Check]++
	}
	for check, n := range perCheck {
		limit := 1
		if check == protocol.CheckSmallCount || check == protocol.CheckUnroundedCount {
			limit = maxColumnFindings + 1 // one per column, then one for the rest
		}
		if n > limit {
			t.Fatalf("%d %s findings", n, check)
		}
	}
}

// printable: valid UTF-8, every rune printable (so no line breaks, no
// control or format characters).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// compareWithEncodingCSV checks the reading of the table against
// encoding/csv, where the two agree on what a CSV is: line ends made "\n",
// no stray quotes, every field within what the table keeps.
func compareWithEncodingCSV(t *testing.T, data []byte, lim Limits) {
	t.Helper()
	norm := bytes.TrimPrefix(data, bom)
	norm = bytes.ReplaceAll(bytes.ReplaceAll(norm, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	r := csv.NewReader(bytes.NewReader(norm))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		return
	}
	for _, rec := range records {
		if len(rec) > maxTalliedColumns {
			return
		}
		for _, field := range rec {
			if len(trimBlanks([]byte(field))) > maxField {
				return
			}
		}
	}
	tb := newTable(lim)
	if err := tb.read(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	wantWidth, wantRows := 0, 0
	if len(records) > 0 {
		wantWidth, wantRows = len(records[0]), len(records)-1
	}
	if tb.width != wantWidth || tb.rows() != wantRows {
		t.Fatalf("%d columns, %d rows; encoding/csv: %d, %d (%q)", tb.width, tb.rows(), wantWidth, wantRows, records)
	}
	var wantSmall, wantUnrounded checkTally
	var wantPatient tally
	for i, rec := range records {
		for col, field := range rec {
			if i == 0 {
				if isPatientID([]byte(field)) {
					wantPatient.add(col + 1)
				}
				continue
			}
			if col < len(records[0]) && !isCountColumn(records[0][col]) {
				continue
			}
			c := readCount([]byte(field), lim.SmallCount, lim.Rounding)
			if c.small {
				wantSmall.add(col, i)
			}
			if c.unrounded {
				wantUnrounded.add(col, i)
			}
		}
	}
	if tb.patient != wantPatient {
		t.Fatalf("patient_id columns %+v; encoding/csv: %+v", tb.patient, wantPatient)
	}
	if !sameTally(tb.small, wantSmall) || !sameTally(tb.unrounded, wantUnrounded) {
		t.Fatalf("tallies %+v %+v; encoding/csv: %+v %+v (%q)", tb.small, tb.unrounded, wantSmall, wantUnrounded, records)
	}
}

// sameTally compares tallies, ignoring columns without any.
func sameTally(a, b checkTally) bool {
	trim := func(c []tally) []tally {
		for len(c) > 0 && c[len(c)-1].n == 0 {
			c = c[:len(c)-1]
		}
		return c
	}
	return slices.Equal(trim(a.cols), trim(b.cols)) && a.rest == b.rest
}
