package release_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/audit"
	"github.com/fivesafes/fivesafes/internal/store"
	"github.com/fivesafes/fivesafes/release"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
	"github.com/fivesafes/fivesafes/runner/outputs"
	"github.com/fivesafes/fivesafes/runner/plan"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

const (
	testRepo    = "owner/study"
	testPR      = 3
	manifestSHA = "1111111111111111111111111111111111111111"
	otherSHA    = "2222222222222222222222222222222222222222"
	pathA       = "output/tables/a.csv"
	pathB       = "output/tables/b.csv"
)

// The bytes of the files the researcher asks for, as the agent finds them.
var bodies = map[string]string{
	pathA: "region,count\nnorth,15\nsouth,20\n",
	pathB: "age,count\n0-17,10\n18+,35\n",
}

// fixture is a release store on a real database, with a real jobs store
// whose tasks the test claims and ends as the agent would.
type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	js  *jobs.Store
	rs  *release.Store
	dir string
	now time.Time
	seq int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := jobstest.OpenDB(t)
	js := jobs.New(db)
	dir := t.TempDir()
	rs, err := release.NewStore(db, js, dir)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: context.Background(), db: db, js: js, rs: rs, dir: dir,
		now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fixture) tick() time.Time {
	f.now = f.now.Add(time.Minute)
	return f.now
}

// askFor is rea's /release of paths on research pull request #3, on tpp.
func askFor(trigger string, paths ...string) release.Ask {
	return release.Ask{Repo: testRepo, InstallationID: 7, PR: testPR, Workspace: "owner/study/study", Branch: "study",
		Backend: "tpp", Requester: "rea", Trigger: trigger, Paths: paths,
		Context: "counts of patients by region", Controls: "counts rounded to the nearest 5"}
}

func (f *fixture) ask(a release.Ask) release.Release {
	f.t.Helper()
	r, err := f.rs.Ask(f.ctx, a, f.tick())
	if err != nil {
		f.t.Fatalf("ask %s: %v", a.Trigger, err)
	}
	return r
}

func (f *fixture) get(id string) release.Release {
	f.t.Helper()
	r, err := f.rs.Get(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) wantState(id string, want release.State) release.Release {
	f.t.Helper()
	r := f.get(id)
	if r.State != want {
		f.t.Fatalf("release is %s (%q), want %s", r.State, r.Reason, want)
	}
	return r
}

// claim takes backend's next task, which must be a release task of kind,
// and decodes what it is about.
func (f *fixture) claim(backend string, kind jobs.TaskKind) (jobs.Claim, protocol.ReleaseTask) {
	f.t.Helper()
	c, ok, err := f.js.Claim(f.ctx, backend, f.tick())
	if err != nil {
		f.t.Fatal(err)
	}
	if !ok {
		f.t.Fatalf("no task for %s, want %s", backend, kind)
	}
	if c.Task.Kind != kind || c.Task.JobID != "" {
		f.t.Fatalf("claimed a %s task (job %q), want %s", c.Task.Kind, c.Task.JobID, kind)
	}
	var rt protocol.ReleaseTask
	if err := json.Unmarshal(c.Task.Payload, &rt); err != nil {
		f.t.Fatalf("payload %s: %v", c.Task.Payload, err)
	}
	return c, rt
}

func (f *fixture) noClaim(backend string) {
	f.t.Helper()
	c, ok, err := f.js.Claim(f.ctx, backend, f.tick())
	if err != nil {
		f.t.Fatal(err)
	}
	if ok {
		f.t.Fatalf("%s claimed %s task %s, want none", backend, c.Task.Kind, c.Task.ID)
	}
}

// report ends a claimed task as its agent would, with result as JSON.
func (f *fixture) report(c jobs.Claim, status jobs.StatusCode, message string, result any) jobs.Answer {
	f.t.Helper()
	f.seq++
	u := jobs.Update{Attempt: c.Task.Attempt, Seq: f.seq, Status: status, Message: message}
	if result != nil {
		raw, ok := result.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(result); err != nil {
				f.t.Fatal(err)
			}
		}
		u.Result = raw
	}
	ans, err := f.js.ApplyUpdate(f.ctx, c.Task.Backend, c.Task.ID, u, f.tick())
	if err != nil {
		f.t.Fatalf("update of task %s: %v", c.Task.ID, err)
	}
	return ans
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func intp(n int) *int { return &n }

// manifest is what the agent finds of paths.
func manifest(paths ...string) []protocol.ManifestFile {
	var out []protocol.ManifestFile
	for _, p := range paths {
		out = append(out, protocol.ManifestFile{Path: p, Size: int64(len(bodies[p])), SHA256: sha256hex(bodies[p]),
			Type: "csv", Rows: intp(2), Columns: intp(2), Findings: []protocol.Finding{}})
	}
	return out
}

func pathsOf(files []protocol.ManifestFile) []string {
	var out []string
	for _, fl := range files {
		out = append(out, fl.Path)
	}
	return out
}

// inReview asks for files, lets the agent's manifest of them through and
// publishes it as manifestSHA on release pull request #10.
func (f *fixture) inReview(trigger string, files []protocol.ManifestFile) release.Release {
	f.t.Helper()
	r := f.ask(askFor(trigger, pathsOf(files)...))
	c, _ := f.claim("tpp", jobs.PrepareRelease)
	f.report(c, jobs.Succeeded, "", files)
	f.wantState(r.ID, release.InReview)
	if err := f.rs.Published(f.ctx, r.ID, r.Revision, 10, manifestSHA, f.tick()); err != nil {
		f.t.Fatal(err)
	}
	if r = f.get(r.ID); !r.InReview() {
		f.t.Fatalf("published release not in review: %+v", r)
	}
	return r
}

func approval(users ...string) release.Verdict {
	return release.Verdict{Approved: true, Counted: users, Ignored: map[string]string{}}
}

func changesBy(user string) release.Verdict {
	return release.Verdict{ChangesRequested: []string{user}, Ignored: map[string]string{user: "requested changes"}}
}

func (f *fixture) decide(id, commit string, v release.Verdict, ev *release.ReviewEvent) release.Release {
	f.t.Helper()
	r, err := f.rs.Decide(f.ctx, id, commit, v, ev, f.tick())
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// approved is a release of files that ana and ben approved; its upload
// task is queued, not claimed.
func (f *fixture) approved(trigger string, files []protocol.ManifestFile) release.Release {
	f.t.Helper()
	r := f.inReview(trigger, files)
	if r = f.decide(r.ID, manifestSHA, approval("ana", "ben"), nil); r.State != release.Approved {
		f.t.Fatalf("approval left the release %s", r.State)
	}
	return r
}

func (f *fixture) receive(backend, id, path, body string) error {
	return f.rs.Receive(f.ctx, backend, id, path, int64(len(body)), strings.NewReader(body))
}

// entries is the audit log's entries of kind, after checking the chain.
func (f *fixture) entries(kind string) []audit.Entry {
	f.t.Helper()
	if _, err := audit.Verify(f.ctx, f.db.R); err != nil {
		f.t.Fatalf("audit.Verify: %v", err)
	}
	all, err := audit.List(f.ctx, f.db.R, 0, 100000)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range all {
		if kind == "" || e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// only is the one audit entry of kind, decoded.
func (f *fixture) only(kind string) (audit.Entry, map[string]any) {
	f.t.Helper()
	es := f.entries(kind)
	if len(es) != 1 {
		f.t.Fatalf("%d %s entries, want 1", len(es), kind)
	}
	var data map[string]any
	if err := json.Unmarshal(es[0].Data, &data); err != nil {
		f.t.Fatal(err)
	}
	return es[0], data
}

// kept lists the released files on disk; incoming the uploads in flight.
func (f *fixture) kept() []string     { return f.names(f.dir, "incoming") }
func (f *fixture) incoming() []string { return f.names(filepath.Join(f.dir, "incoming"), "") }

func (f *fixture) names(dir, except string) []string {
	f.t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if de.Name() != except {
			out = append(out, de.Name())
		}
	}
	return out
}

func TestAskStartsAReleaseAndQueuesItsManifest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ask(askFor("comment-1", pathA, pathB))
	if r.ID != release.RequestID(testRepo, testPR, "comment-1") || r.Number != 1 || r.ReleaseBranch != "fivesafes/release-1" ||
		r.Revision != 1 || r.State != release.PendingManifest || r.Backend != "tpp" || r.Requester != "rea" {
		t.Fatalf("asked %+v", r)
	}
	stored := f.get(r.ID)
	if stored.Number != 1 || stored.ReleaseBranch != "fivesafes/release-1" || stored.Revision != 1 || stored.State != release.PendingManifest ||
		stored.PR != testPR || stored.Workspace != "owner/study/study" || stored.InstallationID != 7 || stored.InReview() {
		t.Fatalf("stored %+v", stored)
	}
	rev, err := f.rs.Revision(f.ctx, r.ID, 1)
	if err != nil || rev.Trigger != "comment-1" || !slices.Equal(rev.Paths, []string{pathA, pathB}) || rev.RequestedBy != "rea" ||
		rev.Context != "counts of patients by region" || rev.Controls != "counts rounded to the nearest 5" {
		t.Fatalf("revision 1: %+v, %v", rev, err)
	}
	_, data := f.only("release.requested")
	if e := f.entries("release.requested")[0]; e.Actor != "rea" || e.Repo != testRepo || e.Subject != r.ID || data["number"] != 1.0 {
		t.Fatalf("release.requested %+v %v", e, data)
	}

	c, rt := f.claim("tpp", jobs.PrepareRelease)
	want := protocol.ReleaseTask{ID: r.ID, Revision: 1, Workspace: "owner/study/study",
		Files: []protocol.ReleaseFile{{Path: pathA}, {Path: pathB}}}
	if !reflect.DeepEqual(rt, want) {
		t.Fatalf("prepare_release payload %+v, want %+v", rt, want)
	}
	f.noClaim("tpp")
	f.noClaim("emis")

	// A redelivery of the same comment changes nothing.
	n := len(f.entries(""))
	again := f.ask(askFor("comment-1", pathA))
	if again.ID != r.ID || again.Revision != 1 || again.Version != stored.Version {
		t.Fatalf("asked again: %+v", again)
	}
	if got := len(f.entries("")); got != n {
		t.Fatalf("asking again logged %d entries", got-n)
	}
	if _, err := f.rs.Revision(f.ctx, r.ID, 2); !errors.Is(err, release.ErrNotFound) {
		t.Fatalf("revision 2 after a redelivery: %v", err)
	}
	f.noClaim("tpp")
	// The claimed task is still the agent's to finish.
	f.report(c, jobs.Succeeded, "", manifest(pathA, pathB))
	f.wantState(r.ID, release.InReview)
}

func TestTheManifestPutsTheReleaseInReview(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ask(askFor("comment-1", pathA, pathB))
	c, _ := f.claim("tpp", jobs.PrepareRelease)
	files := manifest(pathA, pathB)
	files[0].Findings = []protocol.Finding{{Check: protocol.CheckSmallCount, Message: "column count: 1 cell of 1 to 7"}}
	if ans := f.report(c, jobs.Succeeded, "", files); ans.Cancel {
		t.Fatal("the agent was told to cancel a manifest that was taken")
	}
	got := f.wantState(r.ID, release.InReview)
	if got.Reason != "" || !got.FinishedAt.IsZero() || got.InReview() {
		t.Fatalf("in review before publication: %+v", got)
	}
	stored, err := f.rs.Files(f.ctx, r.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 {
		t.Fatalf("files %+v", stored)
	}
	for i, s := range stored {
		if !reflect.DeepEqual(s.File, files[i]) || s.Received {
			t.Errorf("file %d stored as %+v, want %+v", i, s, files[i])
		}
	}
	e, data := f.only("release.manifest")
	if e.Actor != "tpp" || data["revision"] != 1.0 || len(data["files"].([]any)) != 2 {
		t.Fatalf("release.manifest %+v %v", e, data)
	}
	f.noClaim("tpp")
}

func TestABadManifestRejectsTheRelease(t *testing.T) {
	t.Parallel()
	withProblem := manifest(pathA, pathB)
	withProblem[1] = protocol.ManifestFile{Path: pathB, Problem: "not in the medium privacy store"}
	cases := map[string]struct {
		status  jobs.StatusCode
		message string
		result  any
		reason  []string
	}{
		"a file the agent could not inspect": {status: jobs.Succeeded, result: withProblem,
			reason: []string{pathB + ": not in the medium privacy store"}},
		"a file left out": {status: jobs.Succeeded, result: manifest(pathA),
			reason: []string{"the backend reported 1 files for the 2 asked", pathB + ": not in the manifest"}},
		"a file not asked for instead": {status: jobs.Succeeded, result: append(manifest(pathA), protocol.ManifestFile{Path: "output/secret.csv", SHA256: sha256hex("")}),
			reason: []string{pathB + ": not in the manifest"}},
		"the task failed": {status: jobs.InternalError, message: "the medium privacy store is not mounted",
			reason: []string{"the backend could not prepare the manifest: the medium privacy store is not mounted"}},
		"an unreadable manifest": {status: jobs.Succeeded, result: json.RawMessage(`{"files":"?"}`),
			reason: []string{"the backend sent a manifest that cannot be read"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.ask(askFor("comment-1", pathA, pathB))
			c, _ := f.claim("tpp", jobs.PrepareRelease)
			f.report(c, tc.status, tc.message, tc.result)
			got := f.wantState(r.ID, release.Rejected)
			for _, want := range tc.reason {
				if !strings.Contains(got.Reason, want) {
					t.Errorf("reason %q does not say %q", got.Reason, want)
				}
			}
			if got.FinishedAt.IsZero() {
				t.Error("rejected without a finish time")
			}
			if stored, err := f.rs.Files(f.ctx, r.ID, 1); err != nil || len(stored) != 0 {
				t.Errorf("a rejected manifest was stored: %+v %v", stored, err)
			}
			e, data := f.only("release.rejected")
			if e.Actor != "tpp" || data["reason"] != got.Reason {
				t.Errorf("release.rejected %+v %v", e, data)
			}
			if n := len(f.entries("release.manifest")); n != 0 {
				t.Errorf("%d release.manifest entries", n)
			}
			f.noClaim("tpp")
			// Nothing the checkers do brings it back.
			if err := f.rs.Published(f.ctx, r.ID, 1, 10, manifestSHA, f.tick()); err != nil {
				t.Fatal(err)
			}
			f.decide(r.ID, manifestSHA, approval("ana", "ben"), nil)
			f.wantState(r.ID, release.Rejected)
			f.noClaim("tpp")
		})
	}
}

func TestASecondReleaseCommandMakesANewRevision(t *testing.T) {
	t.Parallel()
	for _, returned := range []bool{false, true} {
		name := map[bool]string{false: "in review", true: "returned"}[returned]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.inReview("comment-1", manifest(pathA, pathB))
			if returned {
				if r = f.decide(r.ID, manifestSHA, changesBy("ana"), nil); r.State != release.Returned {
					t.Fatalf("changes requested left the release %s", r.State)
				}
			}
			r2 := f.ask(askFor("comment-2", pathA))
			if r2.ID != r.ID || r2.Number != 1 || r2.Revision != 2 || r2.State != release.PendingManifest {
				t.Fatalf("revised %+v", r2)
			}
			got := f.get(r.ID)
			if got.Revision != 2 || got.State != release.PendingManifest || got.Published != 1 || got.InReview() {
				t.Fatalf("stored %+v", got)
			}
			rev, err := f.rs.Revision(f.ctx, r.ID, 2)
			if err != nil || !slices.Equal(rev.Paths, []string{pathA}) || rev.Trigger != "comment-2" {
				t.Fatalf("revision 2: %+v %v", rev, err)
			}
			if e, data := f.only("release.revised"); e.Actor != "rea" || data["revision"] != 2.0 {
				t.Fatalf("release.revised %+v %v", e, data)
			}
			// Approvals of the first manifest count for nothing now.
			f.decide(r.ID, manifestSHA, approval("ana", "ben"), nil)
			f.wantState(r.ID, release.PendingManifest)

			c, rt := f.claim("tpp", jobs.PrepareRelease)
			if rt.Revision != 2 || len(rt.Files) != 1 || rt.Files[0].Path != pathA {
				t.Fatalf("prepare_release of revision 2: %+v", rt)
			}
			f.noClaim("tpp")
			f.report(c, jobs.Succeeded, "", manifest(pathA))
			f.wantState(r.ID, release.InReview)
			if v2, _ := f.rs.Files(f.ctx, r.ID, 2); len(v2) != 1 || v2[0].Path != pathA {
				t.Fatalf("revision 2 files %+v", v2)
			}
			if v1, _ := f.rs.Files(f.ctx, r.ID, 1); len(v1) != 2 {
				t.Fatalf("revision 1 files %+v", v1)
			}
			if err := f.rs.Published(f.ctx, r.ID, 2, 10, otherSHA, f.tick()); err != nil {
				t.Fatal(err)
			}
			f.decide(r.ID, otherSHA, approval("ana", "ben"), nil)
			_, up := f.claim("tpp", jobs.UploadRelease)
			if up.Revision != 2 || len(up.Files) != 1 || up.Files[0].Path != pathA {
				t.Fatalf("upload of revision 2: %+v", up)
			}
		})
	}
}

func TestARevisionDropsTheUnclaimedPrepareTask(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ask(askFor("comment-1", pathA, pathB))
	f.ask(askFor("comment-2", pathB))
	_, rt := f.claim("tpp", jobs.PrepareRelease)
	if rt.ID != r.ID || rt.Revision != 2 || len(rt.Files) != 1 || rt.Files[0].Path != pathB {
		t.Fatalf("claimed %+v, want revision 2's task", rt)
	}
	f.noClaim("tpp")
}

func TestAManifestOfAnOldRevisionIsIgnored(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ask(askFor("comment-1", pathA, pathB))
	old, _ := f.claim("tpp", jobs.PrepareRelease)
	f.ask(askFor("comment-2", pathA))
	if ans := f.report(old, jobs.Succeeded, "", manifest(pathA, pathB)); !ans.Cancel {
		t.Fatal("the agent of a dropped task was not told to stop")
	}
	got := f.wantState(r.ID, release.PendingManifest)
	if got.Revision != 2 {
		t.Fatalf("revision %d", got.Revision)
	}
	for rev := 1; rev <= 2; rev++ {
		if fs, err := f.rs.Files(f.ctx, r.ID, rev); err != nil || len(fs) != 0 {
			t.Fatalf("revision %d files %+v %v", rev, fs, err)
		}
	}
	if n := len(f.entries("release.manifest")); n != 0 {
		t.Fatalf("%d release.manifest entries", n)
	}
	c, _ := f.claim("tpp", jobs.PrepareRelease)
	f.report(c, jobs.Succeeded, "", manifest(pathA))
	f.wantState(r.ID, release.InReview)
}

func TestAskIsBusy(t *testing.T) {
	t.Parallel()
	t.Run("approved or uploading", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.approved("comment-1", manifest(pathA, pathB))
		for _, state := range []release.State{release.Approved, release.Uploading} {
			if state == release.Uploading {
				if err := f.receive("tpp", r.ID, pathA, bodies[pathA]); err != nil {
					t.Fatal(err)
				}
			}
			f.wantState(r.ID, state)
			_, err := f.rs.Ask(f.ctx, askFor("comment-"+string(state), pathA), f.tick())
			if !errors.Is(err, release.ErrBusy) {
				t.Fatalf("ask while %s: %v, want ErrBusy", state, err)
			}
			if got := f.wantState(r.ID, state); got.Revision != 1 {
				t.Fatalf("revision %d after a busy ask", got.Revision)
			}
			if _, err := f.rs.Revision(f.ctx, r.ID, 2); !errors.Is(err, release.ErrNotFound) {
				t.Fatalf("a busy ask made revision 2: %v", err)
			}
		}
		_, up := f.claim("tpp", jobs.UploadRelease)
		if up.Revision != 1 {
			t.Fatalf("upload task %+v", up)
		}
		f.noClaim("tpp")
	})
	t.Run("another backend", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.inReview("comment-1", manifest(pathA))
		a := askFor("comment-2", pathA)
		a.Backend = "emis"
		if _, err := f.rs.Ask(f.ctx, a, f.tick()); !errors.Is(err, release.ErrBusy) || !strings.Contains(err.Error(), "withdraw") {
			t.Fatalf("ask on emis: %v, want ErrBusy saying to withdraw", err)
		}
		if got := f.wantState(r.ID, release.InReview); got.Revision != 1 || got.Backend != "tpp" {
			t.Fatalf("after ask on emis: %+v", got)
		}
		f.noClaim("emis")
		f.noClaim("tpp")
	})
}

func TestAReleaseFromAskToReleased(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.approved("comment-1", manifest(pathA, pathB))
	if r.ApprovedAt.IsZero() || !reflect.DeepEqual(r.Verdict, approval("ana", "ben")) {
		t.Fatalf("approved %+v", r)
	}
	if e, data := f.only("release.approved"); e.Actor != release.Actor || data["commit"] != manifestSHA ||
		!reflect.DeepEqual(data["approved_by"], []any{"ana", "ben"}) {
		t.Fatalf("release.approved %+v %v", e, data)
	}
	c, up := f.claim("tpp", jobs.UploadRelease)
	want := protocol.ReleaseTask{ID: r.ID, Revision: 1, Workspace: "owner/study/study", Files: []protocol.ReleaseFile{
		{Path: pathA, Size: int64(len(bodies[pathA])), SHA256: sha256hex(bodies[pathA])},
		{Path: pathB, Size: int64(len(bodies[pathB])), SHA256: sha256hex(bodies[pathB])},
	}}
	if !reflect.DeepEqual(up, want) {
		t.Fatalf("upload_release payload %+v, want %+v", up, want)
	}
	f.noClaim("tpp")

	if err := f.receive("tpp", r.ID, pathA, bodies[pathA]); err != nil {
		t.Fatal(err)
	}
	f.wantState(r.ID, release.Uploading)
	got, err := os.ReadFile(f.rs.FilePath(sha256hex(bodies[pathA])))
	if err != nil || string(got) != bodies[pathA] {
		t.Fatalf("kept %q, %v", got, err)
	}
	if stored, _ := f.rs.Files(f.ctx, r.ID, 1); len(stored) != 2 || !stored[0].Received || stored[1].Received {
		t.Fatalf("received flags %+v", stored)
	}
	if err := f.receive("tpp", r.ID, pathB, bodies[pathB]); err != nil {
		t.Fatal(err)
	}
	// Every file is in; the release waits for the releaser's commit.
	f.wantState(r.ID, release.Uploading)
	if stored, _ := f.rs.Files(f.ctx, r.ID, 1); !stored[0].Received || !stored[1].Received {
		t.Fatalf("received flags %+v", stored)
	}
	f.report(c, jobs.Succeeded, "", nil)
	f.wantState(r.ID, release.Uploading)
	if n := len(f.entries("release.file_received")); n != 2 {
		t.Fatalf("%d release.file_received entries", n)
	}
	if k := f.kept(); !slices.Equal(k, sortedStrings(sha256hex(bodies[pathA]), sha256hex(bodies[pathB]))) {
		t.Fatalf("kept %v", k)
	}
	if in := f.incoming(); len(in) != 0 {
		t.Fatalf("left in incoming: %v", in)
	}

	if err := f.rs.Released(f.ctx, r.ID, otherSHA, f.tick()); err != nil {
		t.Fatal(err)
	}
	done := f.wantState(r.ID, release.Released)
	if done.ReleasedCommit != otherSHA || done.FinishedAt.IsZero() {
		t.Fatalf("released %+v", done)
	}
	e, data := f.only("release.released")
	files, _ := data["files"].([]any)
	if e.Actor != release.Actor || data["commit"] != otherSHA || len(files) != 2 ||
		files[0].(map[string]any)["sha256"] != sha256hex(bodies[pathA]) {
		t.Fatalf("release.released %+v %v", e, data)
	}
	// The bot's own commit on the released branch is no alarm.
	if err := f.rs.Taint(f.ctx, r.ID, otherSHA, "fivesafes[bot]", f.tick()); err != nil {
		t.Fatal(err)
	}
	if got := f.get(r.ID); got.Tainted != "" {
		t.Fatalf("tainted by its own commit: %+v", got)
	}

	// The next /release on the pull request is release #2.
	r2 := f.ask(askFor("comment-9", pathB))
	if r2.ID == r.ID || r2.Number != 2 || r2.ReleaseBranch != "fivesafes/release-2" || r2.Revision != 1 || r2.State != release.PendingManifest {
		t.Fatalf("next release %+v", r2)
	}
	if _, rt := f.claim("tpp", jobs.PrepareRelease); rt.ID != r2.ID {
		t.Fatalf("prepare task of %s, want %s", rt.ID, r2.ID)
	}
	if rs, err := f.rs.ForResearchPR(f.ctx, testRepo, testPR); err != nil || len(rs) != 2 || rs[0].ID != r2.ID {
		t.Fatalf("releases of the pull request: %+v %v", rs, err)
	}
}

func sortedStrings(s ...string) []string {
	slices.Sort(s)
	return s
}

func TestDecide(t *testing.T) {
	t.Parallel()
	t.Run("changes requested returns the release, and a later verdict puts it back", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.inReview("comment-1", manifest(pathA))
		if got := f.decide(r.ID, manifestSHA, changesBy("ana"), nil); got.State != release.Returned {
			t.Fatalf("decided %s", got.State)
		}
		got := f.wantState(r.ID, release.Returned)
		if !slices.Equal(got.Verdict.ChangesRequested, []string{"ana"}) || !got.InReview() {
			t.Fatalf("returned %+v", got)
		}
		if e, data := f.only("release.returned"); e.Actor != "ana" || !reflect.DeepEqual(data["by"], []any{"ana"}) {
			t.Fatalf("release.returned %+v %v", e, data)
		}
		f.noClaim("tpp")
		// ana dismissed her review: neither returned nor approved.
		f.decide(r.ID, manifestSHA, release.Verdict{Ignored: map[string]string{"ana": "review dismissed"}}, nil)
		f.wantState(r.ID, release.InReview)
		f.noClaim("tpp")
	})
	t.Run("a verdict on another commit changes nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.inReview("comment-1", manifest(pathA))
		got := f.decide(r.ID, otherSHA, approval("ana", "ben"), nil)
		if got.State != release.InReview || got.Version != r.Version {
			t.Fatalf("decided %+v", got)
		}
		if stored := f.get(r.ID); stored.Version != r.Version || stored.Verdict.Approved {
			t.Fatalf("stored %+v", stored)
		}
		f.noClaim("tpp")
	})
	t.Run("a verdict before publication changes nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.ask(askFor("comment-1", pathA))
		c, _ := f.claim("tpp", jobs.PrepareRelease)
		f.report(c, jobs.Succeeded, "", manifest(pathA))
		before := f.wantState(r.ID, release.InReview)
		f.decide(r.ID, "", approval("ana", "ben"), nil)
		f.decide(r.ID, manifestSHA, approval("ana", "ben"), nil)
		if got := f.wantState(r.ID, release.InReview); got.Version != before.Version {
			t.Fatalf("version %d -> %d", before.Version, got.Version)
		}
		f.noClaim("tpp")
	})
	t.Run("reviews are logged as counted or not, with why", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.inReview("comment-1", manifest(pathA))
		policy := release.Policy{ApprovalsRequired: 2, Users: []string{"ana", "ben"}}
		reviews := []release.Review{
			{User: "Ana", State: "APPROVED", CommitID: manifestSHA},
			{User: "eve", State: "APPROVED", CommitID: manifestSHA},
		}
		v := release.Evaluate(policy, "rea", manifestSHA, reviews, nil)
		f.decide(r.ID, manifestSHA, v, &release.ReviewEvent{Reviewer: "eve", State: "APPROVED", CommitID: manifestSHA})
		f.decide(r.ID, manifestSHA, v, &release.ReviewEvent{Reviewer: "Ana", State: "APPROVED", CommitID: manifestSHA})
		f.wantState(r.ID, release.InReview)
		f.noClaim("tpp")
		es := f.entries("release.review")
		if len(es) != 2 {
			t.Fatalf("%d release.review entries", len(es))
		}
		want := []struct {
			actor   string
			counted bool
			why     string
		}{{"eve", false, "not an output checker"}, {"Ana", true, ""}}
		for i, e := range es {
			var data map[string]any
			if err := json.Unmarshal(e.Data, &data); err != nil {
				t.Fatal(err)
			}
			if e.Actor != want[i].actor || data["counted"] != want[i].counted || data["why"] != want[i].why ||
				data["commit"] != manifestSHA || data["manifest_commit"] != manifestSHA || data["state"] != "APPROVED" {
				t.Errorf("review entry %d: %s %v, want %+v", i, e.Actor, data, want[i])
			}
		}

		reviews = append(reviews, release.Review{User: "ben", State: "APPROVED", CommitID: manifestSHA})
		v = release.Evaluate(policy, "rea", manifestSHA, reviews, nil)
		if got := f.decide(r.ID, manifestSHA, v, &release.ReviewEvent{Reviewer: "ben", State: "APPROVED", CommitID: manifestSHA}); got.State != release.Approved {
			t.Fatalf("two checkers' approvals left the release %s", got.State)
		}
		f.claim("tpp", jobs.UploadRelease)
		// A review after approval is logged, and changes nothing.
		late := release.Evaluate(policy, "rea", manifestSHA, append(reviews, release.Review{User: "ben", State: "CHANGES_REQUESTED", CommitID: manifestSHA}), nil)
		f.decide(r.ID, manifestSHA, late, &release.ReviewEvent{Reviewer: "ben", State: "CHANGES_REQUESTED", CommitID: manifestSHA})
		f.wantState(r.ID, release.Approved)
		if n := len(f.entries("release.review")); n != 4 {
			t.Fatalf("%d release.review entries, want 4", n)
		}
	})
}

func TestReceive(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.inReview("comment-1", manifest(pathA))
		if err := f.receive("tpp", r.ID, pathA, bodies[pathA]); !errors.Is(err, protocol.ErrUploadRefused) {
			t.Fatalf("upload before approval: %v", err)
		}
		f.decide(r.ID, manifestSHA, approval("ana", "ben"), nil)
		if err := f.receive("tpp", r.ID, pathB, bodies[pathB]); !errors.Is(err, protocol.ErrUploadRefused) {
			t.Fatalf("upload of a file not in the manifest: %v", err)
		}
		if err := f.receive("emis", r.ID, pathA, bodies[pathA]); !errors.Is(err, protocol.ErrNoSuchRelease) {
			t.Fatalf("upload from another backend: %v", err)
		}
		if err := f.receive("tpp", "no-such-release", pathA, bodies[pathA]); !errors.Is(err, protocol.ErrNoSuchRelease) {
			t.Fatalf("upload to no release: %v", err)
		}
		f.wantState(r.ID, release.Approved)
		if k := f.kept(); len(k) != 0 {
			t.Fatalf("kept %v", k)
		}
		if n := len(f.entries("release.alarm")); n != 0 {
			t.Fatalf("%d alarms for refused uploads", n)
		}
	})
	t.Run("the same file again", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.approved("comment-1", manifest(pathA, pathB))
		for range 2 {
			if err := f.receive("tpp", r.ID, pathA, bodies[pathA]); err != nil {
				t.Fatal(err)
			}
		}
		got := f.wantState(r.ID, release.Uploading)
		if k := f.kept(); !slices.Equal(k, []string{sha256hex(bodies[pathA])}) {
			t.Fatalf("kept %v", k)
		}
		if in := f.incoming(); len(in) != 0 {
			t.Fatalf("left in incoming: %v", in)
		}
		if n := len(f.entries("release.file_received")); n != 1 {
			t.Fatalf("%d release.file_received entries", n)
		}
		if again := f.get(r.ID); again.Version != got.Version {
			t.Fatalf("receiving a file again changed the release: version %d -> %d", got.Version, again.Version)
		}
	})
	t.Run("a reader failing half way", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.approved("comment-1", manifest(pathA))
		body := io.MultiReader(strings.NewReader(bodies[pathA][:10]), iotest.ErrReader(errors.New("connection reset by peer")))
		err := f.rs.Receive(f.ctx, "tpp", r.ID, pathA, int64(len(bodies[pathA])), body)
		if err == nil || errors.Is(err, protocol.ErrUploadMismatch) || errors.Is(err, protocol.ErrUploadRefused) ||
			!strings.Contains(err.Error(), "connection reset by peer") {
			t.Fatalf("a broken upload: %v, want a plain error", err)
		}
		f.wantState(r.ID, release.Approved)
		if n := len(f.entries("release.alarm")); n != 0 {
			t.Fatalf("%d alarms for a broken connection", n)
		}
		if k, in := f.kept(), f.incoming(); len(k) != 0 || len(in) != 0 {
			t.Fatalf("kept %v, incoming %v", k, in)
		}
		// The agent tries again.
		if err := f.receive("tpp", r.ID, pathA, bodies[pathA]); err != nil {
			t.Fatal(err)
		}
		f.wantState(r.ID, release.Uploading)
	})
}

func TestUploadsNotTheApprovedBytesRejectTheRelease(t *testing.T) {
	t.Parallel()
	approved := bodies[pathA]
	cases := map[string]string{
		"same size, other bytes": strings.Replace(approved, "15", "13", 1),
		"shorter":                approved[:len(approved)-1],
		"longer":                 approved + "east,3\n",
		"empty":                  "",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.approved("comment-1", manifest(pathA, pathB))
			if err := f.receive("tpp", r.ID, pathB, bodies[pathB]); err != nil {
				t.Fatal(err)
			}
			// The size announced is the approved one: the bytes decide.
			err := f.rs.Receive(f.ctx, "tpp", r.ID, pathA, int64(len(approved)), strings.NewReader(body))
			if !errors.Is(err, protocol.ErrUploadMismatch) {
				t.Fatalf("upload of %q: %v, want ErrUploadMismatch", body, err)
			}
			got := f.wantState(r.ID, release.Rejected)
			if !strings.Contains(got.Reason, "did not match the approved manifest") || !strings.Contains(got.Reason, pathA) {
				t.Fatalf("reason %q", got.Reason)
			}
			// What arrived is read to one byte past the approved size, no further.
			seen := body[:min(len(body), len(approved)+1)]
			e, data := f.only("release.alarm")
			if e.Actor != "tpp" || data["path"] != pathA || data["approved_sha256"] != sha256hex(approved) ||
				data["sha256"] != sha256hex(seen) || data["size"] != float64(len(seen)) || data["approved_size"] != float64(len(approved)) {
				t.Fatalf("release.alarm %+v %v", e, data)
			}
			if n := len(f.entries("release.rejected")); n != 1 {
				t.Fatalf("%d release.rejected entries", n)
			}
			if k := f.kept(); !slices.Equal(k, []string{sha256hex(bodies[pathB])}) {
				t.Fatalf("kept %v", k)
			}
			if in := f.incoming(); len(in) != 0 {
				t.Fatalf("left in incoming: %v", in)
			}
			// The upload task is dropped, and the approved bytes are too late.
			f.noClaim("tpp")
			if err := f.receive("tpp", r.ID, pathA, approved); !errors.Is(err, protocol.ErrUploadRefused) {
				t.Fatalf("the approved bytes after a mismatch: %v, want ErrUploadRefused", err)
			}
			f.wantState(r.ID, release.Rejected)
			if n := len(f.entries("release.alarm")); n != 1 {
				t.Fatalf("%d alarms", n)
			}
		})
	}
}

// withdrawingReader withdraws the release as its first bytes stream in.
type withdrawingReader struct {
	f    *fixture
	id   string
	body io.Reader
	done bool
}

func (w *withdrawingReader) Read(p []byte) (int, error) {
	if !w.done {
		w.done = true
		if _, err := w.f.rs.Withdraw(w.f.ctx, w.id, "rea", w.f.now); err != nil {
			return 0, err
		}
	}
	return w.body.Read(p)
}

func TestAMismatchAfterAWithdrawalLeavesTheReleaseWithdrawn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.approved("comment-1", manifest(pathA))
	body := &withdrawingReader{f: f, id: r.ID, body: strings.NewReader(strings.ToUpper(bodies[pathA]))}
	err := f.rs.Receive(f.ctx, "tpp", r.ID, pathA, int64(len(bodies[pathA])), body)
	if !errors.Is(err, protocol.ErrUploadMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	got := f.wantState(r.ID, release.Withdrawn)
	if got.Reason != "withdrawn by @rea" {
		t.Fatalf("reason %q", got.Reason)
	}
	// The alarm is raised all the same, and the release ends once.
	f.only("release.alarm")
	f.only("release.withdrawn")
	if n := len(f.entries("release.rejected")); n != 0 {
		t.Fatalf("a withdrawn release was also rejected (%d entries)", n)
	}
}

// patternReader is n bytes that are cheap to make again and never held.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		x := uint64(p.off+int64(i)) * 0x9e3779b97f4a7c15
		b[i] = byte(x >> 56)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// Not parallel: it measures the process's allocations.
func TestALargeUploadStreamsToDisk(t *testing.T) {
	const size = 16 << 20
	h := sha256.New()
	if _, err := io.Copy(h, &patternReader{n: size}); err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	f := newFixture(t)
	r := f.approved("comment-1", []protocol.ManifestFile{{Path: "output/big.csv", Size: size, SHA256: sum, Type: "csv", Findings: []protocol.Finding{}}})

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := f.rs.Receive(f.ctx, "tpp", r.ID, "output/big.csv", size, &patternReader{n: size})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > size/4 {
		t.Fatalf("receiving %d bytes allocated %d bytes: the upload is held in memory", size, grew)
	}
	kept, err := os.Open(f.rs.FilePath(sum))
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	h.Reset()
	if n, err := io.Copy(h, kept); err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != sum {
		t.Fatalf("kept %d bytes, %v", n, err)
	}
	f.wantState(r.ID, release.Uploading)
}

func TestAFailedUploadTaskRejectsTheRelease(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		status  jobs.StatusCode
		message string
		reason  string
	}{
		"the agent gave up": {jobs.InternalError, "the medium privacy store is not mounted",
			"the backend could not upload the approved files: the medium privacy store is not mounted"},
		"the agent ended it with a file missing": {jobs.Succeeded, "",
			"the backend ended the upload with 1 of the approved files missing"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.approved("comment-1", manifest(pathA, pathB))
			c, _ := f.claim("tpp", jobs.UploadRelease)
			if err := f.receive("tpp", r.ID, pathA, bodies[pathA]); err != nil {
				t.Fatal(err)
			}
			f.report(c, tc.status, tc.message, nil)
			got := f.wantState(r.ID, release.Rejected)
			if got.Reason != tc.reason {
				t.Fatalf("reason %q, want %q", got.Reason, tc.reason)
			}
			if e, data := f.only("release.rejected"); e.Actor != "tpp" || data["reason"] != tc.reason {
				t.Fatalf("release.rejected %+v %v", e, data)
			}
			if err := f.receive("tpp", r.ID, pathB, bodies[pathB]); !errors.Is(err, protocol.ErrUploadRefused) {
				t.Fatalf("upload after the task failed: %v", err)
			}
			if err := f.rs.Released(f.ctx, r.ID, otherSHA, f.tick()); err != nil {
				t.Fatal(err)
			}
			f.wantState(r.ID, release.Rejected)
		})
	}
}

func TestWithdraw(t *testing.T) {
	t.Parallel()
	t.Run("pending manifest", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.ask(askFor("comment-1", pathA))
		got, err := f.rs.Withdraw(f.ctx, r.ID, "rea", f.tick())
		if err != nil || got.State != release.Withdrawn {
			t.Fatalf("withdraw: %+v %v", got, err)
		}
		stored := f.wantState(r.ID, release.Withdrawn)
		if stored.Reason != "withdrawn by @rea" || stored.FinishedAt.IsZero() {
			t.Fatalf("withdrawn %+v", stored)
		}
		if e, _ := f.only("release.withdrawn"); e.Actor != "rea" {
			t.Fatalf("release.withdrawn by %s", e.Actor)
		}
		f.noClaim("tpp")
		// Again: nothing more happens.
		if _, err := f.rs.Withdraw(f.ctx, r.ID, "ana", f.tick()); err != nil {
			t.Fatal(err)
		}
		if got := f.get(r.ID); got.Reason != "withdrawn by @rea" || got.Version != stored.Version {
			t.Fatalf("withdrawn again: %+v", got)
		}
		f.only("release.withdrawn")
		// The next /release starts release #2.
		if r2 := f.ask(askFor("comment-2", pathA)); r2.Number != 2 || r2.ID == r.ID {
			t.Fatalf("after withdrawal: %+v", r2)
		}
	})
	t.Run("a claimed prepare task", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.ask(askFor("comment-1", pathA))
		c, _ := f.claim("tpp", jobs.PrepareRelease)
		if _, err := f.rs.Withdraw(f.ctx, r.ID, "rea", f.tick()); err != nil {
			t.Fatal(err)
		}
		if ans := f.report(c, jobs.Succeeded, "", manifest(pathA)); !ans.Cancel {
			t.Fatal("the agent of a withdrawn release's task was not told to stop")
		}
		f.wantState(r.ID, release.Withdrawn)
		if fs, _ := f.rs.Files(f.ctx, r.ID, 1); len(fs) != 0 {
			t.Fatalf("files of a withdrawn release: %+v", fs)
		}
	})
	t.Run("approved", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		r := f.approved("comment-1", manifest(pathA))
		if _, err := f.rs.Withdraw(f.ctx, r.ID, "rea", f.tick()); err != nil {
			t.Fatal(err)
		}
		f.wantState(r.ID, release.Withdrawn)
		f.noClaim("tpp")
		if err := f.receive("tpp", r.ID, pathA, bodies[pathA]); !errors.Is(err, protocol.ErrUploadRefused) {
			t.Fatalf("upload to a withdrawn release: %v", err)
		}
		if k := f.kept(); len(k) != 0 {
			t.Fatalf("kept %v", k)
		}
	})
	t.Run("no such release", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if _, err := f.rs.Withdraw(f.ctx, "nope", "rea", f.tick()); !errors.Is(err, release.ErrNotFound) {
			t.Fatalf("withdraw nothing: %v", err)
		}
	})
}

func TestTaintAndRestore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.inReview("comment-1", manifest(pathA))

	// The bot's own commit, or none, is no taint.
	for _, commit := range []string{manifestSHA, ""} {
		if err := f.rs.Taint(f.ctx, r.ID, commit, "fivesafes[bot]", f.tick()); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.get(r.ID); got.Tainted != "" || got.Version != r.Version {
		t.Fatalf("tainted by its own commit: %+v", got)
	}
	if n := len(f.entries("release.tainted")); n != 0 {
		t.Fatalf("%d release.tainted entries", n)
	}

	if err := f.rs.Taint(f.ctx, r.ID, otherSHA, "mallory", f.tick()); err != nil {
		t.Fatal(err)
	}
	got := f.get(r.ID)
	if got.Tainted != otherSHA || got.InReview() {
		t.Fatalf("tainted %+v", got)
	}
	if e, data := f.only("release.tainted"); e.Actor != "mallory" || data["commit"] != otherSHA || data["alarm"] == "" {
		t.Fatalf("release.tainted %+v %v", e, data)
	}
	// Reviews decide nothing while the branch shows someone else's commit.
	f.decide(r.ID, manifestSHA, approval("ana", "ben"), nil)
	f.wantState(r.ID, release.InReview)
	f.noClaim("tpp")

	if err := f.rs.Restored(f.ctx, r.ID, manifestSHA, f.tick()); err != nil {
		t.Fatal(err)
	}
	if got := f.get(r.ID); got.Tainted != "" || !got.InReview() {
		t.Fatalf("restored %+v", got)
	}
	if e, data := f.only("release.restored"); e.Actor != release.Actor || data["replaced"] != otherSHA || data["commit"] != manifestSHA {
		t.Fatalf("release.restored %+v %v", e, data)
	}
	// Restored again: nothing to log.
	if err := f.rs.Restored(f.ctx, r.ID, manifestSHA, f.tick()); err != nil {
		t.Fatal(err)
	}
	f.only("release.restored")
	f.decide(r.ID, manifestSHA, approval("ana", "ben"), nil)
	f.wantState(r.ID, release.Approved)
	f.claim("tpp", jobs.UploadRelease)

	// A withdrawn release's branch is nobody's concern.
	if _, err := f.rs.Withdraw(f.ctx, r.ID, "rea", f.tick()); err != nil {
		t.Fatal(err)
	}
	if err := f.rs.Taint(f.ctx, r.ID, otherSHA, "mallory", f.tick()); err != nil {
		t.Fatal(err)
	}
	if got := f.get(r.ID); got.Tainted != "" {
		t.Fatalf("a withdrawn release was tainted: %+v", got)
	}
	f.only("release.tainted")
}

func TestEveryChangeIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	version := int64(0)
	var id string
	// changed checks that step bumped the release's version and signalled.
	changed := func(step string) {
		t.Helper()
		select {
		case <-f.rs.Changed():
		default:
			t.Fatalf("%s: no signal on Changed", step)
		}
		r := f.get(id)
		if r.Version <= version {
			t.Fatalf("%s: version %d, was %d", step, r.Version, version)
		}
		version = r.Version
		un, err := f.rs.Unreported(f.ctx, 10)
		if err != nil || len(un) != 1 || un[0].ID != id || un[0].Version != version {
			t.Fatalf("%s: unreported %+v %v", step, un, err)
		}
	}
	unchanged := func(step string) {
		t.Helper()
		select {
		case <-f.rs.Changed():
			t.Fatalf("%s: signalled Changed", step)
		default:
		}
		if r := f.get(id); r.Version != version {
			t.Fatalf("%s: version %d, was %d", step, r.Version, version)
		}
	}

	id = f.ask(askFor("comment-1", pathA, pathB)).ID
	changed("ask")
	f.ask(askFor("comment-1", pathA, pathB))
	unchanged("ask again")
	c, _ := f.claim("tpp", jobs.PrepareRelease)
	f.report(c, jobs.Succeeded, "", manifest(pathA, pathB))
	changed("manifest")
	if err := f.rs.Published(f.ctx, id, 1, 10, manifestSHA, f.tick()); err != nil {
		t.Fatal(err)
	}
	changed("published")
	if err := f.rs.Published(f.ctx, id, 1, 10, manifestSHA, f.tick()); err != nil {
		t.Fatal(err)
	}
	unchanged("published again")
	f.decide(id, manifestSHA, changesBy("ana"), nil)
	changed("returned")
	f.decide(id, otherSHA, approval("ana", "ben"), nil)
	unchanged("a verdict on another commit")
	if err := f.rs.Taint(f.ctx, id, otherSHA, "mallory", f.tick()); err != nil {
		t.Fatal(err)
	}
	changed("tainted")
	if err := f.rs.Restored(f.ctx, id, manifestSHA, f.tick()); err != nil {
		t.Fatal(err)
	}
	changed("restored")
	f.decide(id, manifestSHA, approval("ana", "ben"), nil)
	changed("approved")
	f.claim("tpp", jobs.UploadRelease)
	unchanged("the upload task claimed")
	if err := f.receive("tpp", id, pathA, bodies[pathA]); err != nil {
		t.Fatal(err)
	}
	changed("received")
	if err := f.receive("tpp", id, pathB, bodies[pathB]); err != nil {
		t.Fatal(err)
	}
	changed("received all")
	if err := f.rs.Released(f.ctx, id, otherSHA, f.tick()); err != nil {
		t.Fatal(err)
	}
	changed("released")

	if err := f.rs.MarkReported(f.ctx, id, version); err != nil {
		t.Fatal(err)
	}
	if un, err := f.rs.Unreported(f.ctx, 10); err != nil || len(un) != 0 {
		t.Fatalf("unreported after MarkReported: %+v %v", un, err)
	}
	// A report of an older version, finishing late, does not undo that.
	if err := f.rs.MarkReported(f.ctx, id, version-1); err != nil {
		t.Fatal(err)
	}
	if got := f.get(id); got.Reported != version {
		t.Fatalf("reported %d, want %d", got.Reported, version)
	}

	// A rejection by a finisher is reported too.
	id = f.ask(askFor("comment-2", pathA)).ID
	version = 0
	changed("ask #2")
	c, _ = f.claim("tpp", jobs.PrepareRelease)
	f.report(c, jobs.InternalError, "gone", nil)
	changed("rejected")
}

func TestResolve(t *testing.T) {
	t.Parallel()
	group := func(level checks.PrivacyLevel, paths ...string) checks.OutputGroup {
		g := checks.OutputGroup{Level: level}
		for i, p := range paths {
			g.Outputs = append(g.Outputs, checks.Output{Name: "out" + string(rune('a'+i)), Path: p})
		}
		return g
	}
	file := func(path, refused string) outputs.FileReport {
		return outputs.FileReport{Path: path, Level: checks.ModeratelySensitive, Size: 10, SHA256: sha256hex(path), Refused: refused}
	}
	workspace := []jobs.Job{
		{Action: "generate_dataset", State: plan.Succeeded, Status: jobs.Succeeded,
			Spec:    jobs.Spec{Outputs: []checks.OutputGroup{group(checks.HighlySensitive, "output/dataset.csv.gz")}},
			Outputs: &outputs.Report{HighlySensitiveCount: 1}},
		{Action: "tables", State: plan.Succeeded, Status: jobs.Succeeded,
			Spec: jobs.Spec{Outputs: []checks.OutputGroup{group(checks.ModeratelySensitive, "output/tables/*.csv", "output/tables/*/*.csv")}},
			Outputs: &outputs.Report{Files: []outputs.FileReport{
				file("output/tables/b.csv", ""), file("output/tables/a.csv", ""), file("output/tables/sub/c.csv", ""),
				file("output/tables/what?.csv", ""),
			}}},
		{Action: "model", State: plan.Failed, Status: jobs.NonzeroExit,
			Spec: jobs.Spec{Outputs: []checks.OutputGroup{group(checks.ModeratelySensitive, "output/model.txt")}}},
		{Action: "plots", State: plan.Succeeded, Status: jobs.Succeeded,
			Spec: jobs.Spec{Outputs: []checks.OutputGroup{group(checks.ModeratelySensitive, "output/plots/*.png")}},
			Outputs: &outputs.Report{Files: []outputs.FileReport{
				file("output/plots/p1.png", ""), file("output/plots/p2.png", "the file is larger than 16 MB."),
			}}},
		{Action: "report", State: plan.Running, Status: jobs.Executing,
			Spec: jobs.Spec{Outputs: []checks.OutputGroup{group(checks.ModeratelySensitive, "output/report.html")}}},
	}
	known := "`output/plots/p1.png`, `output/tables/a.csv`, `output/tables/b.csv`, `output/tables/sub/c.csv`, `output/tables/what?.csv`"
	cases := map[string]struct {
		asked     []string
		workspace []jobs.Job
		paths     []string
		problems  []string
	}{
		"a file": {asked: []string{"output/tables/a.csv"}, paths: []string{"output/tables/a.csv"}},
		"a glob, sorted, within one directory": {asked: []string{"output/tables/*.csv"},
			paths: []string{"output/tables/a.csv", "output/tables/b.csv", "output/tables/what?.csv"}},
		"a glob one directory down": {asked: []string{"output/tables/*/*.csv"}, paths: []string{"output/tables/sub/c.csv"}},
		"a file asked twice is released once": {asked: []string{"output/tables/a.csv", "output/tables/*.csv"},
			paths: []string{"output/tables/a.csv", "output/tables/b.csv", "output/tables/what?.csv"}},
		"* does not cross a slash": {asked: []string{"output/*.csv"},
			problems: []string{"`output/*.csv` is not a moderately sensitive output of a succeeded job in this workspace (those are: " + known + ")."}},
		"? is no wildcard": {asked: []string{"output/tables/?.csv"},
			problems: []string{"`output/tables/?.csv` is not a moderately sensitive output of a succeeded job in this workspace (those are: " + known + ")."}},
		"[ is no wildcard": {asked: []string{"output/tables/[ab].csv"},
			problems: []string{"`output/tables/[ab].csv` is not a moderately sensitive output of a succeeded job in this workspace (those are: " + known + ")."}},
		"? matches itself": {asked: []string{"output/tables/what?.csv"}, paths: []string{"output/tables/what?.csv"}},
		"highly sensitive": {asked: []string{"output/dataset.csv.gz"},
			problems: []string{"`output/dataset.csv.gz` is a highly sensitive output of `generate_dataset`: it never leaves the secure zone. Release only moderately sensitive outputs."}},
		"a glob over highly sensitive outputs": {asked: []string{"output/*.gz"},
			problems: []string{"`output/*.gz` is a highly sensitive output of `generate_dataset`: it never leaves the secure zone. Release only moderately sensitive outputs."}},
		"a job that failed": {asked: []string{"output/model.txt"},
			problems: []string{"`output/model.txt` is an output of `model`, whose latest job has not succeeded (nonzero_exit): run it again first."}},
		"a job still running": {asked: []string{"output/report.html"},
			problems: []string{"`output/report.html` is an output of `report`, whose latest job has not succeeded (executing): run it again first."}},
		"a file refused at level 4": {asked: []string{"output/plots/p2.png"},
			problems: []string{"`output/plots/p2.png` was refused at level 4 when `plots` ran, so it never reached the medium privacy store: the file is larger than 16 MB."}},
		"a glob over a refused file takes the others": {asked: []string{"output/plots/*.png"}, paths: []string{"output/plots/p1.png"}},
		"an unknown path names the outputs there are": {asked: []string{"output/nope.csv"},
			problems: []string{"`output/nope.csv` is not a moderately sensitive output of a succeeded job in this workspace (those are: " + known + ")."}},
		"good and bad together": {asked: []string{"output/model.txt", "output/plots/p1.png", "output/tables/b.csv"},
			paths:    []string{"output/plots/p1.png", "output/tables/b.csv"},
			problems: []string{"`output/model.txt` is an output of `model`, whose latest job has not succeeded (nonzero_exit): run it again first."}},
		"a path with a backtick": {asked: []string{"output/`x`.csv"},
			problems: []string{"``output/`x`.csv`` is not a moderately sensitive output of a succeeded job in this workspace (those are: " + known + ")."}},
		"an empty workspace": {asked: []string{"output/tables/a.csv"}, workspace: []jobs.Job{},
			problems: []string{"`output/tables/a.csv` is not an output of a succeeded job in this workspace, which has no moderately sensitive outputs yet."}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ws := workspace
			if tc.workspace != nil {
				ws = tc.workspace
			}
			paths, problems := release.Resolve(tc.asked, ws)
			if !slices.Equal(paths, tc.paths) {
				t.Errorf("paths %q, want %q", paths, tc.paths)
			}
			if !slices.Equal(problems, tc.problems) {
				t.Errorf("problems\n%q\nwant\n%q", problems, tc.problems)
			}
		})
	}
}

func TestFileCountsCountTheCurrentRevision(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.inReview("c1", manifest("output/a.csv", "output/b.csv"))
	// Revision 2 asks for one file: its count is the release's now.
	r2 := f.ask(askFor("c2", "output/a.csv"))
	if r2.ID != r.ID || r2.Revision != 2 {
		t.Fatalf("second ask made %s revision %d", r2.ID, r2.Revision)
	}
	c, _ := f.claim("tpp", jobs.PrepareRelease)
	f.report(c, jobs.Succeeded, "", manifest("output/a.csv"))
	pending := f.ask(release.Ask{Repo: "owner/other", InstallationID: 7, PR: 1, Workspace: "owner/other/b", Branch: "b",
		Backend: "tpp", Requester: "ana", Trigger: "c3", Paths: []string{"output/a.csv"}, Context: "c", Controls: "c"})
	got, err := f.rs.FileCounts(f.ctx, []release.Release{f.get(r.ID), pending})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[r.ID] != 1 {
		t.Fatalf("file counts %v, want only %s with 1 (the other has no manifest yet)", got, r.ID)
	}
}
