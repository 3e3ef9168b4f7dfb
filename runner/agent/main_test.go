package agent

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/runner/exec"
	"github.com/fivesafes/fivesafes/runner/exec/exectest"
)

// The test binary is also the jobs' supervisor and built-ins, chosen by a
// variable, as in runner/exec's tests.
const roleVar = "FIVESAFES_AGENT_TEST_ROLE"

func TestMain(m *testing.M) { exectest.Main(m, roleVar) }

func testSupervisor() exec.Option { return exectest.Supervisor(roleVar) }

func testImages() exec.Images {
	return exec.Images{
		"ehrql":   {"builtin:ehrql"},
		"summary": {"builtin:csv-summary"},
		"fail":    {"builtin:fail"},
		"sleep":   {"builtin:sleep"},
		"write":   {"builtin:write"},
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return logging.With(ctx, slog.New(slog.DiscardHandler))
}

// tarEntry is one member of a test tarball; Name is the full path in the
// archive, top-level directory included.
type tarEntry struct {
	Name     string
	Body     string
	Type     byte // default regular file
	Linkname string
}

// tarball builds a gzip'd tar.
func tarball(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Linkname, Mode: 0o644}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: e.Name, PAXRecords: map[string]string{"comment": "abc1234"}}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// repoTarball is a GitHub-style tarball of a study.
func repoTarball(t *testing.T, files map[string]string) []byte {
	entries := []tarEntry{
		{Name: "pax_global_header", Type: tar.TypeXGlobalHeader},
		{Name: "acme-study-abc1234/", Type: tar.TypeDir},
	}
	for name, body := range files {
		entries = append(entries, tarEntry{Name: "acme-study-abc1234/" + name, Body: body})
	}
	return tarball(t, entries...)
}
