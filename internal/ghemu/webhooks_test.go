package ghemu_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

var secret = []byte("s3cret")

// receiver is a webhook endpoint that checks signatures like the bot does
// and keeps the events it accepted.
type receiver struct {
	mu     sync.Mutex
	events []received
}

type received struct {
	header http.Header
	event  any
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := github.ValidatePayload(r, secret)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	ev, err := github.ParseWebHook(github.WebHookType(r), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.events = append(rc.events, received{header: r.Header.Clone(), event: ev})
	rc.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.events...)
}

func listen(t *testing.T, emu *ghemu.Emulator) *receiver {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	emu.SetWebhook(srv.URL+"/webhook", secret)
	return rc
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestPullRequestAndPushWebhooks(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	repo.Commit("feature", map[string]string{"project.yaml": "v1"}, "Add project")
	n, sha := repo.OpenPR("feature", "main", "Add study", "ben")
	sha2 := repo.Push("feature", map[string]string{"project.yaml": "v2"})
	if sha2 == sha || repo.Head("feature") != sha2 {
		t.Fatalf("push: head %s, pushed %s, before %s", repo.Head("feature"), sha2, sha)
	}

	got := rc.all()
	if len(got) != 3 {
		t.Fatalf("%d events delivered, want opened, synchronize, check_suite requested", len(got))
	}
	for _, r := range got {
		if !uuidRE.MatchString(r.header.Get("X-GitHub-Delivery")) || !strings.HasPrefix(r.header.Get("User-Agent"), "GitHub-Hookshot/") ||
			r.header.Get("X-GitHub-Hook-ID") == "" || r.header.Get("X-Hub-Signature-256") == "" {
			t.Errorf("headers %v", r.header)
		}
	}

	opened, ok := got[0].event.(*github.PullRequestEvent)
	if !ok || opened.GetAction() != "opened" || opened.GetInstallation().GetID() != installationID || opened.GetNumber() != n ||
		opened.GetPullRequest().GetHead().GetSHA() != sha || opened.GetPullRequest().GetHead().GetRef() != "feature" ||
		opened.GetPullRequest().GetBase().GetRef() != "main" || opened.GetRepo().GetFullName() != "ana/study" ||
		opened.GetSender().GetLogin() != "ben" || opened.GetPullRequest().GetUser().GetLogin() != "ben" {
		t.Errorf("opened: %+v", got[0].event)
	}
	sync, ok := got[1].event.(*github.PullRequestEvent)
	if !ok || sync.GetAction() != "synchronize" || sync.GetBefore() != sha || sync.GetAfter() != sha2 ||
		sync.GetPullRequest().GetHead().GetSHA() != sha2 || sync.GetInstallation().GetID() != installationID {
		t.Errorf("synchronize: %+v", got[1].event)
	}
	suite, ok := got[2].event.(*github.CheckSuiteEvent)
	if !ok || suite.GetAction() != "requested" || suite.GetCheckSuite().GetHeadSHA() != sha2 ||
		suite.GetCheckSuite().GetHeadBranch() != "feature" || len(suite.GetCheckSuite().PullRequests) != 1 ||
		suite.GetCheckSuite().PullRequests[0].GetNumber() != n || suite.GetInstallation().GetID() != installationID ||
		suite.GetCheckSuite().GetApp().GetID() != emu.AppID() {
		t.Errorf("check_suite: %+v", got[2].event)
	}

	repo.ClosePR(n, "ana")
	repo.ReopenPR(n, "ana")
	repo.LabelPR(n, "fivesafes:run-all", "ana")
	actions := []string{}
	for _, r := range rc.all()[3:] {
		actions = append(actions, r.event.(*github.PullRequestEvent).GetAction())
	}
	if strings.Join(actions, ",") != "closed,reopened,labeled" {
		t.Errorf("actions %v", actions)
	}
	labeled := rc.all()[5].event.(*github.PullRequestEvent)
	if labeled.GetLabel().GetName() != "fivesafes:run-all" || len(labeled.GetPullRequest().Labels) != 1 {
		t.Errorf("labeled: %+v", labeled.GetLabel())
	}
	gh := client(t, emu)
	pr, _, err := gh.PullRequests.Get(t.Context(), "ana", "study", n)
	if err != nil || pr.GetState() != "open" || pr.GetHead().GetSHA() != sha2 || pr.Labels[0].GetName() != "fivesafes:run-all" {
		t.Errorf("GET pull: %+v %v", pr, err)
	}
	if _, _, err := gh.PullRequests.Get(t.Context(), "ana", "study", 99); statusOf(err) != http.StatusNotFound {
		t.Errorf("GET missing pull: %v", err)
	}

	for i, d := range emu.Deliveries() {
		if d.StatusCode != http.StatusAccepted || d.Err != "" {
			t.Errorf("delivery %d: %+v", i, d)
		}
	}
}

func TestForkPullRequests(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	fork := repo.Fork("mallory")
	sha := fork.Commit("evil", map[string]string{"project.yaml": "exfiltrate"}, "Innocent change")
	n, head := repo.OpenPR("mallory:evil", "main", "Please merge", "mallory")
	fork.Push("evil", map[string]string{"more.txt": "x"})

	got := rc.all()
	if head != sha || len(got) != 2 { // opened, synchronize; mallory has no installation, so no check_suite
		t.Fatalf("head %s (want %s), %d events", head, sha, len(got))
	}
	pr := got[0].event.(*github.PullRequestEvent).GetPullRequest()
	if pr.GetHead().GetRepo().GetFullName() != "mallory/study" || !pr.GetHead().GetRepo().GetFork() ||
		pr.GetBase().GetRepo().GetFullName() != "ana/study" || pr.GetHead().GetLabel() != "mallory:evil" {
		t.Errorf("head repo %s, base repo %s, label %s", pr.GetHead().GetRepo().GetFullName(), pr.GetBase().GetRepo().GetFullName(), pr.GetHead().GetLabel())
	}
	if p, _ := repo.PullRequest(n); p.HeadRepo != "mallory/study" || p.HeadSHA != fork.Head("evil") {
		t.Errorf("snapshot %+v", p)
	}

	// The base repository's installation reads the fork's commit through
	// the base repository, as GitHub allows.
	gh := client(t, emu)
	fc, _, _, err := gh.Repositories.GetContents(t.Context(), "ana", "study", "project.yaml", &github.RepositoryContentGetOptions{Ref: head})
	if content, _ := fc.GetContent(); err != nil || content != "exfiltrate" {
		t.Errorf("fork content %q, %v", content, err)
	}
	full, _, err := gh.Repositories.Get(t.Context(), "mallory", "study")
	if err != nil || full.GetParent().GetFullName() != "ana/study" {
		t.Errorf("fork: %v %v", full.GetParent(), err)
	}
}

func TestRerequestedCheckRun(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	rc := listen(t, emu)
	sha := repo.Head("main")
	run, _, err := gh.Checks.CreateCheckRun(t.Context(), "ana", "study", github.CreateCheckRunOptions{
		Name: "fivesafes / project.yaml", HeadSHA: sha, ExternalID: github.Ptr("x1"), Conclusion: github.Ptr("failure"),
	})
	if err != nil {
		t.Fatal(err)
	}
	repo.RerequestCheckRun(run.GetID(), "ana")
	repo.RerequestCheckSuite(sha, "ana")
	got := rc.all()
	if len(got) != 2 {
		t.Fatalf("%d events", len(got))
	}
	ev, ok := got[0].event.(*github.CheckRunEvent)
	if !ok || ev.GetAction() != "rerequested" || ev.GetCheckRun().GetID() != run.GetID() || ev.GetCheckRun().GetHeadSHA() != sha ||
		ev.GetCheckRun().GetName() != "fivesafes / project.yaml" || ev.GetCheckRun().GetExternalID() != "x1" ||
		ev.GetCheckRun().GetCheckSuite().GetID() != run.GetCheckSuite().GetID() || ev.GetInstallation().GetID() != installationID ||
		ev.GetCheckRun().GetCheckSuite().GetConclusion() != "failure" {
		t.Errorf("check_run: %+v", ev)
	}
	cs, ok := got[1].event.(*github.CheckSuiteEvent)
	if !ok || cs.GetAction() != "rerequested" || cs.GetCheckSuite().GetID() != run.GetCheckSuite().GetID() ||
		cs.GetCheckSuite().GetHeadBranch() != "main" || cs.GetCheckSuite().GetLatestCheckRunsCount() != 1 {
		t.Errorf("check_suite: %+v", cs)
	}
}

func TestRedeliverAndRawDeliveries(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	repo.OpenPR("feature", "main", "t", "ana")
	first := emu.Deliveries()[0]

	status, err := emu.Redeliver(first.GUID)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("redeliver: %d %v", status, err)
	}
	ds := emu.Deliveries()
	if len(ds) != 2 || ds[1].GUID != first.GUID || !bytes.Equal(ds[1].Body, first.Body) || !ds[1].Redelivery {
		t.Errorf("redelivery %+v", ds[1])
	}
	if got := rc.all(); got[1].header.Get("X-GitHub-Delivery") != first.GUID {
		t.Errorf("redelivered GUID %s", got[1].header.Get("X-GitHub-Delivery"))
	}

	status, guid, err := emu.Send("ping", map[string]any{"zen": "Keep it simple.", "hook_id": 1})
	if err != nil || status != http.StatusAccepted || !uuidRE.MatchString(guid) {
		t.Errorf("send: %d %s %v", status, guid, err)
	}

	body := []byte(`{"action":"opened"}`)
	h := first.Header.Clone()
	h.Set("X-Hub-Signature-256", "sha256=0000")
	if status, err := emu.SendRaw(h, body); err != nil || status != http.StatusUnauthorized {
		t.Errorf("bad signature: %d %v, want the receiver's 401", status, err)
	}
	h.Set("X-Hub-Signature-256", emu.Signature(body))
	if status, _ := emu.SendRaw(h, body); status != http.StatusAccepted {
		t.Errorf("good signature: %d", status)
	}
}

func TestWebhooksWithoutReceiver(t *testing.T) {
	emu, repo := start(t)
	repo.Commit("feature", map[string]string{"a": "1"}, "a")
	repo.OpenPR("feature", "main", "t", "ana") // no webhook yet: recorded, not sent
	d := emu.Deliveries()
	if len(d) != 1 || d[0].StatusCode != 0 || d[0].Err == "" {
		t.Fatalf("deliveries %+v", d)
	}
	rc := listen(t, emu)
	if status, err := emu.Redeliver(d[0].GUID); err != nil || status != http.StatusAccepted || len(rc.all()) != 1 {
		t.Errorf("redeliver once the bot listens: %d %v", status, err)
	}
}

func TestUnsignedBodyReachesReceiverUnchanged(t *testing.T) {
	emu, _ := start(t)
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	emu.SetWebhook(srv.URL, secret)
	if status, err := emu.SendRaw(http.Header{"X-GitHub-Event": {"push"}}, []byte("not json")); status != http.StatusTeapot || err != nil {
		t.Errorf("status %d %v", status, err)
	}
	if string(got) != "not json" {
		t.Errorf("body %q", got)
	}
}

// PushAs is a push by someone other than the pull request's author: the
// events name them as the sender.
func TestPushAsNamesThePusher(t *testing.T) {
	emu, repo := start(t)
	rc := listen(t, emu)
	repo.Commit("feature", map[string]string{"project.yaml": "v1"}, "Add project")
	repo.OpenPR("feature", "main", "Add study", "ben")
	sha := repo.PushAs("feature", "renovate[bot]", map[string]string{"project.yaml": "v2"})
	got := rc.all()
	if len(got) != 3 {
		t.Fatalf("%d events delivered, want opened, synchronize, check_suite requested", len(got))
	}
	sync, ok := got[1].event.(*github.PullRequestEvent)
	if !ok || sync.GetAction() != "synchronize" || sync.GetAfter() != sha || sync.GetSender().GetLogin() != "renovate[bot]" {
		t.Errorf("synchronize: %+v", got[1].event)
	}
}
