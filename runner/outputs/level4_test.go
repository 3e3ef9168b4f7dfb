package outputs

import (
	"reflect"
	"strings"
	"testing"
)

// table builds a CSV with a header and n data rows, each ending in sep,
// except the last when trailing is false.
func table(header string, n int, row, sep string, trailing bool) []byte {
	var b strings.Builder
	b.WriteString(header + sep)
	for i := range n {
		b.WriteString(row)
		if i < n-1 || trailing {
			b.WriteString(sep)
		}
	}
	return []byte(b.String())
}

func rules(v Verdict) []Rule {
	var rs []Rule
	for _, p := range v.Problems {
		rs = append(rs, p.Rule)
	}
	return rs
}

func TestLevel4(t *testing.T) {
	t.Parallel()
	const max = 16 << 20
	cases := map[string]struct {
		name    string
		size    int64 // -1: len(content)
		content []byte
		want    []Rule
		rows    int
	}{
		"16 MiB exactly":                    {"output/report.txt", max, nil, nil, 0},
		"one byte over 16 MiB":              {"output/report.txt", max + 1, nil, []Rule{RuleSize}, 0},
		"too large decides alone":           {"output/model.rds", max + 1, nil, []Rule{RuleSize}, 0},
		"too large CSV is not read":         {"output/t.csv", max + 1, []byte("patient_id\n1\n"), []Rule{RuleSize}, 0},
		"each allowed type":                 {"a.jpeg", 10, nil, nil, 0},
		"type not allowed":                  {"output/model.rds", 10, nil, []Rule{RuleFileType}, 0},
		"pdf not allowed":                   {"output/report.pdf", 10, nil, []Rule{RuleFileType}, 0},
		"type is case-sensitive":            {"output/table.CSV", 10, nil, []Rule{RuleFileType}, 0},
		"compressed CSV":                    {"output/table.csv.gz", 10, nil, []Rule{RuleFileType}, 0},
		"dot file has no type":              {"output/.csv", 10, nil, []Rule{RuleFileType}, 0},
		"trailing dot has no type":          {"output/table.", 10, nil, []Rule{RuleFileType}, 0},
		"dot in the directory only":         {"output.d/table", 10, nil, []Rule{RuleFileType}, 0},
		"a type that a CSV check skips":     {"output/ids.json", -1, []byte(`{"patient_id": 1}`), nil, 0},
		"5,000 rows with a final newline":   {"t.csv", -1, table("a,b", 5000, "1,2", "\n", true), nil, 5000},
		"5,000 rows without one":            {"t.csv", -1, table("a,b", 5000, "1,2", "\n", false), nil, 5000},
		"5,001 rows":                        {"t.csv", -1, table("a,b", 5001, "1,2", "\n", true), []Rule{RuleCSVRows}, 5001},
		"5,001 rows without final newline":  {"t.csv", -1, table("a,b", 5001, "1,2", "\n", false), []Rule{RuleCSVRows}, 5001},
		"CRLF lines":                        {"t.csv", -1, table("a,b", 5001, "1,2", "\r\n", true), []Rule{RuleCSVRows}, 5001},
		"old Mac lines":                     {"t.csv", -1, table("a,b", 5001, "1,2", "\r", false), []Rule{RuleCSVRows}, 5001},
		"blank lines are not rows":          {"t.csv", -1, table("a,b", 5000, "1,2\n", "\n", true), nil, 5000},
		"quoted newlines are one row":       {"t.csv", -1, table("a,b", 5000, "\"x\ny\r\nz\",2", "\n", true), nil, 5000},
		"quoted newlines, one too many":     {"t.csv", -1, table("a,b", 5001, "\"x\ny\",\"\"\"q\"\"\"", "\n", true), []Rule{RuleCSVRows}, 5001},
		"patient_id column":                 {"t.csv", -1, []byte("patient_id,n\n1,5\n"), []Rule{RulePatientID}, 1},
		"patient_id second":                 {"t.csv", -1, []byte("n,patient_id\n"), []Rule{RulePatientID}, 0},
		"patient_id in another case":        {"t.csv", -1, []byte("Patient_ID,n\n"), []Rule{RulePatientID}, 0},
		"patient_id with spaces":            {"t.csv", -1, []byte("n, patient_id \n"), []Rule{RulePatientID}, 0},
		"patient_id quoted":                 {"t.csv", -1, []byte("\"patient_id\",n\n"), []Rule{RulePatientID}, 0},
		"patient_id after a BOM":            {"t.csv", -1, []byte("\ufeffpatient_id,n\n"), []Rule{RulePatientID}, 0},
		"patient_id after a blank line":     {"t.csv", -1, []byte("\npatient_id,n\n1,2\n"), []Rule{RulePatientID}, 2},
		"patient_id as a value":             {"t.csv", -1, []byte("column,n\npatient_id,5\n"), nil, 1},
		"a longer name":                     {"t.csv", -1, []byte("patient_identifier,n\n"), nil, 0},
		"patient_id and too many rows":      {"t.csv", -1, table("patient_id", 5001, "1", "\n", true), []Rule{RulePatientID, RuleCSVRows}, 5001},
		"empty CSV":                         {"t.csv", -1, nil, nil, 0},
		"not UTF-8 is still read":           {"t.csv", -1, []byte("\xff\xfe,patient_id\n"), []Rule{RulePatientID}, 0},
		"unterminated quote ends the file":  {"t.csv", -1, []byte("a\n\"x\n1\n2\n"), nil, 1},
		"stray quotes are text":             {"t.csv", -1, []byte("a,b\nx\"y,\"q\"r\n"), nil, 1},
		"a comma inside quotes":             {"t.csv", -1, []byte("\"a,patient_id\"\n"), nil, 0},
		"a limit counts data rows, not all": {"t.csv", -1, table("a", 4999, "1", "\n", true), nil, 4999},
	}
	lim := DefaultLimits()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			size := tc.size
			if size < 0 {
				size = int64(len(tc.content))
			}
			v := Level4(tc.name, size, tc.content, lim)
			if got := rules(v); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems = %v, want %v (%s)", got, tc.want, v.Reason())
			}
			if v.Rows != tc.rows {
				t.Errorf("rows = %d, want %d", v.Rows, tc.rows)
			}
			if v.OK() != (tc.want == nil) {
				t.Errorf("OK() = %v", v.OK())
			}
		})
	}
	for _, typ := range lim.FileTypes {
		if v := Level4("output/x"+typ, 1, []byte("a\n"), lim); !v.OK() {
			t.Errorf("%s refused: %s", typ, v.Reason())
		}
	}
}

func TestLevel4Messages(t *testing.T) {
	t.Parallel()
	lim := DefaultLimits()
	cases := map[string]string{
		Level4("a.txt", 17<<20, nil, lim).Reason():                                   "file size of 17.00 MB is above the limit of 16.00 MB for moderately_sensitive files",
		Level4("a.rds", 1, nil, lim).Reason():                                        "file type .rds is not allowed for moderately_sensitive files (allowed: .csv .jpg .jpeg .png .svg .svgz .html .txt .log .json .md)",
		Level4("README", 1, nil, lim).Reason():                                       "file type (none) is not allowed for moderately_sensitive files (allowed: .csv .jpg .jpeg .png .svg .svgz .html .txt .log .json .md)",
		Level4("a.csv", 0, table("patient_id", 5001, "1", "\n", true), lim).Reason(): "has a patient_id column: patient-level data cannot be moderately_sensitive; has 5001 data rows, above the limit of 5000 for moderately_sensitive files",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
	note := RefusalNote("output/patients.csv", Level4("output/patients.csv", 0, []byte("patient_id\n"), lim))
	for _, want := range []string{noteHeader, "    output/patients.csv\n", "- has a patient_id column", "Declare the file highly_sensitive"} {
		if !strings.Contains(note, want) {
			t.Errorf("note lacks %q:\n%s", want, note)
		}
	}
}

func TestScanCSV(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		in     string
		header []string
		rows   int
	}{
		"empty":                         {"", nil, 0},
		"header only":                   {"a,b\n", []string{"a", "b"}, 0},
		"header without newline":        {"a,b", []string{"a", "b"}, 0},
		"empty fields":                  {",\n", []string{"", ""}, 0},
		"trailing comma at end of file": {"a,\n1,", []string{"a", ""}, 1},
		"doubled quotes":                {"\"a\"\"b\",c\n", []string{"a\"b", "c"}, 0},
		"quoted field over lines":       {"\"a\nb\",c\n1,2\n", []string{"a\nb", "c"}, 1},
		"CR inside quotes is a newline": {"\"a\rb\"\n1\n", []string{"a\nb"}, 1},
		"text after a closing quote":    {"\"a\"b,c\n", []string{"ab", "c"}, 0},
		"quote inside a field":          {"a\"b\n", []string{"a\"b"}, 0},
		"spaces are data":               {" \n1\n", []string{" "}, 1},
		"blank lines everywhere":        {"a\n\n1\n\n\n2\n\n", []string{"a"}, 2},
		// DictReader takes a blank first line as (empty) field names, so the
		// real header counts as a row; the patient_id check reads it anyway.
		"blank first line":   {"\na\n1\n", []string{"a"}, 2},
		"unterminated quote": {"a\n\"1,2\n3\n", []string{"a"}, 1},
		"NUL is data":        {"a\x00b\n1\n", []string{"a\x00b"}, 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := scanCSV([]byte(tc.in))
			if !reflect.DeepEqual(got.header, tc.header) || got.rows != tc.rows {
				t.Errorf("scanCSV(%q) = %q, %d rows; want %q, %d", tc.in, got.header, got.rows, tc.header, tc.rows)
			}
		})
	}
}

func TestSuffix(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a.csv": ".csv", "dir/a.b.csv": ".csv", ".csv": "", "dir/.csv": "", "a.": "", "a": "",
		"a.d/b": "", "..csv": ".csv", "a..": "", "": "", "dir/": "",
	} {
		if got := Suffix(in); got != want {
			t.Errorf("Suffix(%q) = %q, want %q", in, got, want)
		}
	}
}
