package outputs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fivesafes/fivesafes/checks"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// storeFiles lists a store's files with their contents (notes abbreviated).
func storeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		content := readFile(t, p)
		if strings.HasPrefix(content, noteHeader) {
			content = "NOTE"
		}
		files[filepath.ToSlash(rel)] = content
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

const (
	tableCSV    = "group,count\na,10\nb,15\n"
	patientsCSV = "patient_id,age\n1,40\n"
)

func TestFinalize(t *testing.T) {
	t.Parallel()
	ws := makeWorkspace(t, map[string]string{
		"output/dataset.csv.gz":  "gz",
		"output/dataset2.csv.gz": "gz2",
		"output/table.csv":       tableCSV,
		"output/patients.csv":    patientsCSV,
		"output/plot.png":        "png",
		"output/model.rds":       "rds",
		"output/counts.txt":      "counts",
	})
	medium := filepath.Join(t.TempDir(), "medium", "my-workspace")
	// What earlier jobs left in the store, and a stale copy of a file that
	// this run refuses.
	if err := os.MkdirAll(filepath.Join(medium, "output"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"output/other_job.csv": "x\n1\n",
		"output/patients.csv":  "n\n1\n",
	} {
		if err := os.WriteFile(filepath.Join(medium, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	action := []checks.OutputGroup{
		outputsAt(checks.HighlySensitive, "output/dataset*.csv.gz"),
		outputsAt(checks.ModeratelySensitive, "output/*.csv", "output/plot.png", "output/model.rds", "output/missing_*.csv"),
		outputsAt(checks.MinimallySensitive, "output/counts.txt"),
	}
	report, m, err := Finalize(ws, medium, action, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Unmatched: []string{"output/missing_*.csv"},
		Files: []FileReport{
			{Path: "output/model.rds", Level: checks.ModeratelySensitive, Size: 3, SHA256: sha("rds"),
				Refused: "file type .rds is not allowed for moderately_sensitive files (allowed: .csv .jpg .jpeg .png .svg .svgz .html .txt .log .json .md)"},
			{Path: "output/patients.csv", Level: checks.ModeratelySensitive, Size: int64(len(patientsCSV)), SHA256: sha(patientsCSV),
				Refused: "has a patient_id column: patient-level data cannot be moderately_sensitive"},
			{Path: "output/plot.png", Level: checks.ModeratelySensitive, Size: 3, SHA256: sha("png")},
			{Path: "output/table.csv", Level: checks.ModeratelySensitive, Size: int64(len(tableCSV)), SHA256: sha(tableCSV)},
		},
		HighlySensitiveCount:    2,
		MinimallySensitiveCount: 1,
	}
	if !reflect.DeepEqual(report, want) {
		t.Errorf("report:\n got %+v\nwant %+v", report, want)
	}
	if len(m.Files) != 7 {
		t.Errorf("matched %d files, want 7", len(m.Files))
	}
	wantStore := map[string]string{
		"output/other_job.csv":    "x\n1\n",
		"output/model.rds.txt":    "NOTE",
		"output/patients.csv.txt": "NOTE",
		"output/plot.png":         "png",
		"output/table.csv":        tableCSV,
	}
	if got := storeFiles(t, medium); !reflect.DeepEqual(got, wantStore) {
		t.Errorf("medium store:\n got %q\nwant %q", got, wantStore)
	}
	if note := readFile(t, filepath.Join(medium, "output/patients.csv.txt")); !strings.Contains(note, "- has a patient_id column") {
		t.Errorf("note:\n%s", note)
	}

	// Nothing but names, sizes, hashes and counts leaves the secure zone.
	js, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"dataset", "counts.txt", "age", "group"} {
		if strings.Contains(string(js), secret) {
			t.Errorf("report JSON mentions %q: %s", secret, js)
		}
	}

	// The researcher fixes patients.csv: the next run copies it and removes
	// the note.
	if err := os.WriteFile(filepath.Join(ws, "output/patients.csv"), []byte("age_band,count\n40-49,10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Finalize(ws, medium, action, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	got := storeFiles(t, medium)
	if got["output/patients.csv"] != "age_band,count\n40-49,10\n" {
		t.Errorf("fixed file not copied: %q", got)
	}
	if _, ok := got["output/patients.csv.txt"]; ok {
		t.Errorf("stale note kept: %q", got)
	}
}

func TestPersistNeverOverwritesAnotherOutputWithANote(t *testing.T) {
	t.Parallel()
	ws := makeWorkspace(t, map[string]string{"output/a.csv": patientsCSV, "output/b.csv": patientsCSV, "output/b.csv.txt": "mine"})
	medium := makeWorkspace(t, map[string]string{"output/a.csv.txt": "another job's output"})
	files := []MatchedFile{
		{Path: "output/a.csv", Level: checks.ModeratelySensitive},
		{Path: "output/b.csv", Level: checks.ModeratelySensitive},
		{Path: "output/b.csv.txt", Level: checks.ModeratelySensitive},
	}
	if _, err := Persist(ws, medium, files, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"output/a.csv.txt":                   "another job's output",
		"output/a.csv.fivesafes-refused.txt": "NOTE",
		"output/b.csv.txt":                   "mine",
		"output/b.csv.fivesafes-refused.txt": "NOTE",
	}
	if got := storeFiles(t, medium); !reflect.DeepEqual(got, want) {
		t.Errorf("medium store:\n got %q\nwant %q", got, want)
	}
}

func TestPersistRefusesLargeFilesWithoutReadingThemWhole(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 101)
	ws := makeWorkspace(t, map[string]string{"output/big.txt": big, "output/edge.txt": big[:100]})
	medium := t.TempDir()
	lim := DefaultLimits()
	lim.MaxSize = 100
	r, err := Persist(ws, medium, []MatchedFile{
		{Path: "output/big.txt", Level: checks.ModeratelySensitive},
		{Path: "output/edge.txt", Level: checks.ModeratelySensitive},
	}, lim)
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Files[0]; f.Size != 101 || f.SHA256 != sha(big) || !strings.HasPrefix(f.Refused, "file size of") {
		t.Errorf("big file: %+v", f)
	}
	if f := r.Files[1]; f.Size != 100 || f.Refused != "" {
		t.Errorf("file at the limit: %+v", f)
	}
	want := map[string]string{"output/big.txt.txt": "NOTE", "output/edge.txt": big[:100]}
	if got := storeFiles(t, medium); !reflect.DeepEqual(got, want) {
		t.Errorf("medium store: %q", got)
	}
}

func TestPersistOnlyCountsOtherLevels(t *testing.T) {
	t.Parallel()
	medium := filepath.Join(t.TempDir(), "not-created")
	r, err := Persist(t.TempDir(), medium, []MatchedFile{
		{Path: "output/a.arrow", Level: checks.HighlySensitive},
		{Path: "output/b.csv", Level: checks.MinimallySensitive},
	}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Report{Files: []FileReport{}, HighlySensitiveCount: 1, MinimallySensitiveCount: 1}); !reflect.DeepEqual(r, want) {
		t.Errorf("report = %+v", r)
	}
	if _, err := os.Stat(medium); err == nil {
		t.Error("the medium store was created for no file")
	}
}
