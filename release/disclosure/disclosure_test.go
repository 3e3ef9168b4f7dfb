package disclosure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

func testLimits() Limits { return DefaultLimits(outputs.DefaultLimits().FileTypes) }

// finding is a finding, shortly.
func finding(check, msg string) protocol.Finding { return protocol.Finding{Check: check, Message: msg} }

func small(msg string) protocol.Finding     { return finding(protocol.CheckSmallCount, msg) }
func unrounded(msg string) protocol.Finding { return finding(protocol.CheckUnroundedCount, msg) }

func intp(n int) *int { return &n }

func TestInspect(t *testing.T) {
	t.Parallel()
	wide := func() string { // 25 columns, each with one count of 2 in its row
		var b strings.Builder
		for i := range 25 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "c%d", i+1)
		}
		b.WriteString("\n" + strings.Repeat("2,", 24) + "2\n")
		return b.String()
	}()
	cases := map[string]struct {
		name, data string
		lim        func(*Limits)
		want       Facts
	}{
		"small and unrounded counts, summarised by column": {
			name: "output/t.csv", data: "group,n\na,3\nb,10\nc,1\nd,0\n",
			want: Facts{Type: "csv", Rows: intp(4), Columns: intp(2), Findings: []protocol.Finding{
				small(`column "n": 2 counts of 1 to 7 (rows 1, 3)`),
				unrounded(`column "n": 2 counts not a multiple of 5 (rows 1, 3)`),
			}},
		},
		"rounded counts above 7 pass": {
			name: "output/t.csv", data: "group,n\na,10\nb,15\nc,1000\nd,0\n",
			want: Facts{Type: "csv", Rows: intp(4), Columns: intp(2), Findings: []protocol.Finding{}},
		},
		"counts written as 3.0, +4, 007 and with spaces": {
			name: "output/t.csv", data: "n\n3.0\n 5 \n+4\n007\n\"  6\t\"\n",
			want: Facts{Type: "csv", Rows: intp(5), Columns: intp(1), Findings: []protocol.Finding{
				small(`column "n": 5 counts of 1 to 7 (rows 1, 2, 3 and 2 more)`),
				unrounded(`column "n": 4 counts not a multiple of 5 (rows 1, 3, 4 and 1 more)`),
			}},
		},
		"negative numbers, decimals, exponents and text are not counts": {
			name: "output/t.csv", data: "n\n-3\n2.5\n1e3\n0.0\nthree\n3 4\n.5\n3.\n",
			want: Facts{Type: "csv", Rows: intp(8), Columns: intp(1), Findings: []protocol.Finding{
				small(`column "n": 1 count of 1 to 7 (row 8)`),
				unrounded(`column "n": 1 count not a multiple of 5 (row 8)`),
			}},
		},
		"a number of any length": {
			name: "output/t.csv", data: "n\n123456789012345678901234567890\n123456789012345678901234567891\n",
			want: Facts{Type: "csv", Rows: intp(2), Columns: intp(1), Findings: []protocol.Finding{
				unrounded(`column "n": 1 count not a multiple of 5 (row 2)`),
			}},
		},
		"identifier, date and age columns are not counts": {
			name: "output/t.csv",
			data: "Patient ID,practice_id,id,Year,age,start-date,snomed_code,n\n1,3,4,2021,6,20200101,123,8\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(8), Findings: []protocol.Finding{
				unrounded(`column "n": 1 count not a multiple of 5 (row 1)`),
			}},
		},
		"patient_id column, in any case and with spaces": {
			name: "output/t.csv", data: "n, Patient_ID \n10,20\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(2), Findings: []protocol.Finding{
				finding(protocol.CheckPatientIDColumn, "a patient_id column (column 2): the file may hold patient-level data"),
			}},
		},
		"several patient_id columns": {
			name: "output/t.csv", data: "patient_id,patient_id,x,\"patient_id\",patient_id,patient_id\n",
			want: Facts{Type: "csv", Rows: intp(0), Columns: intp(6), Findings: []protocol.Finding{
				finding(protocol.CheckPatientIDColumn, "5 patient_id columns (columns 1, 2, 4 and 2 more): the file may hold patient-level data"),
			}},
		},
		"too many rows": {
			name: "output/t.csv", data: "x\na\nb\nc\nd\n", lim: func(l *Limits) { l.MaxRows = 3 },
			want: Facts{Type: "csv", Rows: intp(4), Columns: intp(1), Findings: []protocol.Finding{
				finding(protocol.CheckTooManyRows, "4 data rows, more than 3"),
			}},
		},
		"as many rows as allowed": {
			name: "output/t.csv", data: "x\na\nb\nc\n", lim: func(l *Limits) { l.MaxRows = 3 },
			want: Facts{Type: "csv", Rows: intp(3), Columns: intp(1), Findings: []protocol.Finding{}},
		},
		"a byte-order mark does not hide patient_id": {
			name: "output/t.csv", data: "\ufeffpatient_id,n\n10,20\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(2), Findings: []protocol.Finding{
				finding(protocol.CheckPatientIDColumn, "a patient_id column (column 1): the file may hold patient-level data"),
			}},
		},
		"CRLF and CR line ends": {
			name: "output/t.csv", data: "g,n\r\na,3\r\rb,10\rc,4",
			want: Facts{Type: "csv", Rows: intp(3), Columns: intp(2), Findings: []protocol.Finding{
				small(`column "n": 2 counts of 1 to 7 (rows 1, 3)`),
				unrounded(`column "n": 2 counts not a multiple of 5 (rows 1, 3)`),
			}},
		},
		"quoted fields hold commas, quotes and line ends": {
			name: "output/t.csv", data: "\"a \"\"name\"\", b\",n\n\"x, y\",\"3\"\n\"multi\r\nline\",10\n",
			want: Facts{Type: "csv", Rows: intp(2), Columns: intp(2), Findings: []protocol.Finding{
				small(`column "n": 1 count of 1 to 7 (row 1)`),
				unrounded(`column "n": 1 count not a multiple of 5 (row 1)`),
			}},
		},
		"ragged rows": {
			name: "output/t.csv", data: "a,b\n1\n10,20,3\n",
			want: Facts{Type: "csv", Rows: intp(2), Columns: intp(2), Findings: []protocol.Finding{
				small(`column "a": 1 count of 1 to 7 (row 1)`),
				small(`column 3 (no header): 1 count of 1 to 7 (row 2)`),
				unrounded(`column "a": 1 count not a multiple of 5 (row 1)`),
				unrounded(`column 3 (no header): 1 count not a multiple of 5 (row 2)`),
			}},
		},
		"blank lines are not rows": {
			name: "output/t.csv", data: "\n\nn\n\n10\n\n\n15\n\n",
			want: Facts{Type: "csv", Rows: intp(2), Columns: intp(1), Findings: []protocol.Finding{}},
		},
		"an unterminated quote ends the file's last record": {
			name: "output/t.csv", data: "n,m\n3,\"10\n11,12\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(2), Findings: []protocol.Finding{
				small(`column "n": 1 count of 1 to 7 (row 1)`),
				unrounded(`column "n": 1 count not a multiple of 5 (row 1)`),
			}},
		},
		"stray quotes are text": {
			name: "output/t.csv", data: "n\"x,m\n\"3\"4,a\"b\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(2), Findings: []protocol.Finding{
				unrounded(`column "n\"x": 1 count not a multiple of 5 (row 1)`), // "3"4 is 34
			}},
		},
		"not text at all": {
			name: "output/t.csv", data: "\x00\xff\xfe,\x89PNG\r\n\x1a\n\"\x00\x01",
			want: Facts{Type: "csv", Rows: intp(2), Columns: intp(2), Findings: []protocol.Finding{}},
		},
		"empty file": {
			name: "output/t.csv", data: "",
			want: Facts{Type: "csv", Rows: intp(0), Columns: intp(0), Findings: []protocol.Finding{}},
		},
		"header only": {
			name: "output/t.csv", data: "a,b,c",
			want: Facts{Type: "csv", Rows: intp(0), Columns: intp(3), Findings: []protocol.Finding{}},
		},
		"unnamed and repeated columns are numbered": {
			name: "output/t.csv", data: ",n,n\n1,2,10\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(3), Findings: []protocol.Finding{
				small(`column 1: 1 count of 1 to 7 (row 1)`),
				small(`column 2 "n": 1 count of 1 to 7 (row 1)`),
				unrounded(`column 1: 1 count not a multiple of 5 (row 1)`),
				unrounded(`column 2 "n": 1 count not a multiple of 5 (row 1)`),
			}},
		},
		"hostile column names are cleaned and shortened": {
			name: "output/t.csv",
			data: "\"n\x1b[31m\u202e\r\nok\"," + strings.Repeat("long", 40) + "\n3,3\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(2), Findings: []protocol.Finding{
				small(`column "n[31mok": 1 count of 1 to 7 (row 1)`),
				small(`column "` + strings.Repeat("long", 15) + `lon…": 1 count of 1 to 7 (row 1)`),
				unrounded(`column "n[31mok": 1 count not a multiple of 5 (row 1)`),
				unrounded(`column "` + strings.Repeat("long", 15) + `lon…": 1 count not a multiple of 5 (row 1)`),
			}},
		},
		"a wide table shares one finding past 20 columns": {
			name: "output/t.csv", data: wide, lim: func(l *Limits) { l.Rounding = 0 },
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(25), Findings: func() []protocol.Finding {
				var fs []protocol.Finding
				for i := range 20 {
					fs = append(fs, small(fmt.Sprintf(`column "c%d": 1 count of 1 to 7 (row 1)`, i+1)))
				}
				return append(fs, small("5 more columns: 5 counts of 1 to 7"))
			}()},
		},
		"checks turned off": {
			name: "output/t.csv", data: "n\n3\n4\n", lim: func(l *Limits) { l.SmallCount, l.Rounding, l.MaxRows = 0, 1, 0 },
			want: Facts{Type: "csv", Rows: intp(2), Columns: intp(1), Findings: []protocol.Finding{}},
		},
		"other limits": {
			name: "output/t.csv", data: "n\n3\n4\n20\n", lim: func(l *Limits) { l.SmallCount, l.Rounding = 3, 10 },
			want: Facts{Type: "csv", Rows: intp(3), Columns: intp(1), Findings: []protocol.Finding{
				small(`column "n": 1 count of 1 to 3 (row 1)`),
				unrounded(`column "n": 2 counts not a multiple of 10 (rows 1, 2)`),
			}},
		},
		"an upper-case extension is a CSV": {
			name: "output/T.CSV", data: "n\n3\n",
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(1), Findings: []protocol.Finding{
				small(`column "n": 1 count of 1 to 7 (row 1)`),
				unrounded(`column "n": 1 count not a multiple of 5 (row 1)`),
			}},
		},
		"a PNG has no rows": {
			name: "output/plot.png", data: "\x89PNG\r\n\x1a\n,1,2,3\n",
			want: Facts{Type: "png", Findings: []protocol.Finding{}},
		},
		"a type output checkers do not review": {
			name: "output/model.rds", data: "n\n3\n",
			lim: func(l *Limits) { l.AllowedTypes = []string{".csv", ".png"} },
			want: Facts{Type: "rds", Findings: []protocol.Finding{
				finding(protocol.CheckFileType, `file type ".rds" is not one output checkers review (they review .csv .png)`),
			}},
		},
		"a file without a type": {
			name: "output/.csv", data: "n\n3\n",
			lim: func(l *Limits) { l.AllowedTypes = []string{".csv"} },
			want: Facts{Type: "", Findings: []protocol.Finding{
				finding(protocol.CheckFileType, "the file has no type: output checkers review only .csv"),
			}},
		},
		"a CSV output checkers do not review is still checked": {
			name: "output/t.csv", data: "patient_id\n1\n",
			lim: func(l *Limits) { l.AllowedTypes = []string{".png"} },
			want: Facts{Type: "csv", Rows: intp(1), Columns: intp(1), Findings: []protocol.Finding{
				finding(protocol.CheckFileType, `file type ".csv" is not one output checkers review (they review .png)`),
				finding(protocol.CheckPatientIDColumn, "a patient_id column (column 1): the file may hold patient-level data"),
			}},
		},
		"a hostile type is cleaned": {
			name: "output/x.\u202eEXE\x1b" + strings.Repeat("z", 40), data: "",
			want: Facts{Type: "exe" + strings.Repeat("z", 29), Findings: []protocol.Finding{
				finding(protocol.CheckFileType, `file type ".EXEzzzzzzzzzzz…" is not one output checkers review (they review .csv .jpg .jpeg .png .svg .svgz .html .txt .log .json .md)`),
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lim := testLimits()
			if tc.lim != nil {
				tc.lim(&lim)
			}
			for _, r := range []struct {
				how string
				r   io.Reader
			}{
				{"whole", strings.NewReader(tc.data)},
				{"a byte at a time", iotest.OneByteReader(strings.NewReader(tc.data))},
			} {
				got, err := Inspect(tc.name, r.r, lim)
				if err != nil {
					t.Fatalf("%s: %v", r.how, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s:\n got %s\nwant %s", r.how, show(got), show(tc.want))
				}
			}
		})
	}
}

func show(f Facts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "type %q", f.Type)
	if f.Rows != nil {
		fmt.Fprintf(&b, " rows %d", *f.Rows)
	}
	if f.Columns != nil {
		fmt.Fprintf(&b, " columns %d", *f.Columns)
	}
	if f.Findings == nil {
		b.WriteString(" findings nil")
	}
	for _, x := range f.Findings {
		fmt.Fprintf(&b, "\n  %s: %s", x.Check, x.Message)
	}
	return b.String()
}

func TestIsCountColumn(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"n": true, "count": true, "": true, "total": true, "2021": true, "rate": true,
		"paid": true, "valid": true, "age_band": true, "admissions_per_year": true, "year_of_birth": true,
		"id": false, "ID": false, "patient_id": false, " Patient ID ": false, "practice-id": false,
		"code": false, "snomedct_code": false, "year": false, "Month": false, "week": false,
		"day": false, "date": false, "start.date": false, "age": false, "AGE": false,
	}
	for header, want := range cases {
		if got := isCountColumn(header); got != want {
			t.Errorf("isCountColumn(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestReadCount(t *testing.T) {
	t.Parallel()
	cases := map[string]count{
		"0":     {ok: true, zero: true},
		"000":   {ok: true, zero: true},
		"0.00":  {ok: true, zero: true},
		"1":     {ok: true, small: true, unrounded: true},
		"5":     {ok: true, small: true},
		"7":     {ok: true, small: true, unrounded: true},
		"8":     {ok: true, unrounded: true},
		"10":    {ok: true},
		"12":    {ok: true, unrounded: true},
		"3.0":   {ok: true, small: true, unrounded: true},
		"3.":    {ok: true, small: true, unrounded: true},
		" 5 ":   {ok: true, small: true},
		"+6":    {ok: true, small: true, unrounded: true},
		"0007":  {ok: true, small: true, unrounded: true},
		"70":    {ok: true},
		"71":    {ok: true, unrounded: true},
		"-3":    {},
		"2.5":   {},
		"3.01":  {},
		"1e3":   {},
		".5":    {},
		"":      {},
		"+":     {},
		"3 4":   {},
		"1,000": {},
		"٣":     {}, // not an ASCII digit
	}
	for cell, want := range cases {
		if got := readCount([]byte(cell), 7, 5); got != want {
			t.Errorf("readCount(%q) = %+v, want %+v", cell, got, want)
		}
	}
}

func TestInspectReportsAReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("n\n3\n10\n"), iotest.ErrReader(boom))
	got, err := Inspect("output/t.csv", r, testLimits())
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if got.Rows == nil || *got.Rows != 2 || len(got.Findings) != 2 {
		t.Errorf("facts before the error = %s, want 2 rows and their findings", show(got))
	}
	if _, err := Inspect("output/t.csv", iotest.ErrReader(boom), testLimits()); !errors.Is(err, boom) {
		t.Errorf("an error at once: err = %v, want %v", err, boom)
	}
}

func TestNonCSVIsNotRead(t *testing.T) {
	t.Parallel()
	r := iotest.ErrReader(errors.New("read"))
	if _, err := Inspect("output/plot.png", r, testLimits()); err != nil {
		t.Errorf("a PNG was read: %v", err)
	}
}

// repeated is a file of a head and a body repeated up to size bytes, made
// as it is read, so that the test itself holds none of it.
type repeated struct {
	head, body []byte
	left       int
	pending    []byte
}

func newRepeated(head, body string, size int) *repeated {
	return &repeated{head: []byte(head), body: []byte(body), left: size, pending: []byte(head)}
}

func (g *repeated) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && g.left > 0 {
		if len(g.pending) == 0 {
			g.pending = g.body
		}
		c := copy(p[n:min(len(p), n+g.left)], g.pending)
		g.pending, g.left, n = g.pending[c:], g.left-c, n+c
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

const tableLine = "E82001,2021,\"group, \"\"a\"\"\",3,12.5,17\n"

// TestInspectMemoryIsFlat reads 16 MB CSVs made on the fly: a long table,
// one huge field, one huge row. It measures the process's allocations, so
// it does not run in parallel.
func TestInspectMemoryIsFlat(t *testing.T) {
	const size, head = 16 << 20, "practice_id,year,group,n,rate,total\n"
	rows := (size - len(head)) / len(tableLine) // whole lines only
	cases := map[string]struct {
		r    io.Reader
		want func(f Facts) bool
	}{
		"a long table": {
			r: newRepeated(head, tableLine, len(head)+rows*len(tableLine)),
			want: func(f Facts) bool {
				return *f.Rows == rows && *f.Columns == 6 && reflect.DeepEqual(f.Findings, []protocol.Finding{
					finding(protocol.CheckTooManyRows, fmt.Sprintf("%d data rows, more than 5000", rows)),
					small(fmt.Sprintf(`column "n": %d counts of 1 to 7 (rows 1, 2, 3 and %d more)`, rows, rows-3)),
					unrounded(fmt.Sprintf(`column "n": %d counts not a multiple of 5 (rows 1, 2, 3 and %d more)`, rows, rows-3)),
					unrounded(fmt.Sprintf(`column "total": %d counts not a multiple of 5 (rows 1, 2, 3 and %d more)`, rows, rows-3)),
				})
			},
		},
		"one field": {
			r:    newRepeated("n\n\"", "1234567\n", size),
			want: func(f Facts) bool { return *f.Rows == 1 && *f.Columns == 1 && len(f.Findings) == 0 },
		},
		"one row": {
			r: newRepeated("n\n", "3,", size),
			want: func(f Facts) bool {
				cells := (size - 2) / 2
				return *f.Rows == 1 && *f.Columns == 1 && len(f.Findings) == 42 &&
					f.Findings[20].Message == fmt.Sprintf("at least %d more columns: %d counts of 1 to 7", maxTalliedColumns-20+1, cells-20)
			},
		},
	}
	for name, tc := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		got, err := Inspect("output/big.csv", tc.r, testLimits())
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if !tc.want(got) {
			t.Errorf("%s: %s", name, show(got))
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: inspecting 16 MB allocated %d bytes, want a fixed amount under 1 MiB", name, alloc)
		}
	}
}

func BenchmarkInspect16MB(b *testing.B) {
	data, err := io.ReadAll(newRepeated("practice_id,year,group,n,rate,total\n", tableLine, 16<<20))
	if err != nil {
		b.Fatal(err)
	}
	lim := testLimits()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Inspect("output/big.csv", bytes.NewReader(data), lim); err != nil {
			b.Fatal(err)
		}
	}
}
