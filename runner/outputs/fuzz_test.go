package outputs

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Messages leave the secure zone: they may carry numbers and the file's
// type, never its contents.
var messageForms = map[Rule]*regexp.Regexp{
	RuleSize:      regexp.MustCompile(`^file size of [0-9]+\.[0-9]{2} MB is above the limit of [0-9]+\.[0-9]{2} MB for moderately_sensitive files$`),
	RuleFileType:  regexp.MustCompile(`^file type (\(none\)|\.[^/]*) is not allowed for moderately_sensitive files \(allowed: [^)]*\)$`),
	RulePatientID: regexp.MustCompile(`^has a patient_id column: patient-level data cannot be moderately_sensitive$`),
	RuleCSVRows:   regexp.MustCompile(`^has [0-9]+ data rows, above the limit of [0-9]+ for moderately_sensitive files$`),
}

func FuzzLevel4(f *testing.F) {
	f.Add("output/t.csv", int64(12), []byte("patient_id\n1\n"))
	f.Add("output/t.csv", int64(5), []byte("a,b\n\"x\ny\",2\r\n"))
	f.Add("output/t.txt", int64(16<<20), []byte{})
	f.Add("output/t.rds", int64(1), []byte{})
	f.Add("output/.csv", int64(1), []byte("x"))
	f.Add("t.csv", int64(-1), []byte("\n\ufeff Patient_ID ,n\n"))
	lim := DefaultLimits()
	lim.MaxCSVRows = 3 // small, so that random tables cross it
	f.Fuzz(func(t *testing.T, name string, size int64, content []byte) {
		v := Level4(name, size, content, lim)
		if again := Level4(name, size, content, lim); !reflect.DeepEqual(v, again) {
			t.Fatalf("not deterministic: %+v then %+v", v, again)
		}
		suffix := Suffix(name)
		got := rules(v)
		switch {
		case size > lim.MaxSize:
			if !slices.Equal(got, []Rule{RuleSize}) {
				t.Fatalf("size %d: %v", size, got)
			}
		case !slices.Contains(lim.FileTypes, suffix):
			if !slices.Equal(got, []Rule{RuleFileType}) {
				t.Fatalf("type %q: %v", suffix, got)
			}
		case suffix == ".csv":
			if !v.CSV || v.Rows < 0 {
				t.Fatalf("CSV not read: %+v", v)
			}
			shape := scanCSV(content)
			var want []Rule
			if slices.ContainsFunc(shape.header, isPatientID) {
				want = append(want, RulePatientID)
			}
			if v.Rows > lim.MaxCSVRows {
				want = append(want, RuleCSVRows)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("CSV: %v, want %v", got, want)
			}
		default:
			if !v.OK() || v.CSV {
				t.Fatalf("allowed type %q refused: %+v", suffix, v)
			}
		}
		if v.OK() && (size > lim.MaxSize || !slices.Contains(lim.FileTypes, suffix)) {
			t.Fatal("passed a file the gates must refuse")
		}
		for _, p := range v.Problems {
			if !messageForms[p.Rule].MatchString(p.Message) {
				t.Fatalf("message %q has an unexpected form", p.Message)
			}
		}
	})
}

// FuzzScanCSV compares the scanner with encoding/csv on what both read the
// same way: well-formed CSV (strict quotes) that does not start with a blank
// line (which Python's DictReader takes as empty field names).
func FuzzScanCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\"a\nb\",c\r\n1,\"\"\"\"\n", "a\n\n\n1", "x\ry\r", "\"unterminated\n", "a\"b\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := scanCSV(data)
		if got.rows < 0 {
			t.Fatalf("negative rows")
		}
		norm := bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
		if bytes.HasPrefix(norm, []byte("\n")) {
			return
		}
		r := csv.NewReader(bytes.NewReader(norm))
		r.FieldsPerRecord = -1
		records, err := r.ReadAll()
		if err != nil {
			return
		}
		var want csvShape
		if len(records) > 0 {
			want = csvShape{header: records[0], rows: len(records) - 1}
		}
		if got.rows != want.rows || !slices.Equal(got.header, want.header) {
			t.Fatalf("scanCSV(%q) = %q, %d rows; encoding/csv: %q, %d rows",
				data, got.header, got.rows, want.header, want.rows)
		}
		if strings.Count(string(norm), "\n") < got.rows-1 {
			t.Fatalf("more rows than lines")
		}
	})
}
