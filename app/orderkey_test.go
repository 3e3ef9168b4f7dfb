package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The payloads are GitHub's own examples, copied into testdata/webhooks as
// EVENT.NAME.json.
func TestOrderKeyOfGitHubsExamplePayloads(t *testing.T) {
	cases := map[string]struct {
		file, event, key string
	}{
		"a pull request event names the PR":          {"pull_request.opened.json", "pull_request", "Codertocat/Hello-World#2"},
		"a push to the PR head is the same PR":       {"pull_request.synchronize.json", "pull_request", "Codertocat/Hello-World#2"},
		"a review belongs to its PR":                 {"pull_request_review.submitted.json", "pull_request_review", "Codertocat/Hello-World#2"},
		"a comment belongs to its issue or PR":       {"issue_comment.created.json", "issue_comment", "Codertocat/Hello-World#1"},
		"an issue event names the issue":             {"issues.opened.json", "issues", "Codertocat/Hello-World#1"},
		"a check suite with a PR names the PR":       {"check_suite.rerequested.json", "check_suite", "Codertocat/Hello-World#2"},
		"a check suite without a PR names its head":  {"check_suite.requested.json", "check_suite", "Codertocat/Hello-World@f95f852bd8fca8fcc58a9a2d6c842781e32a215e"},
		"a check run with a PR names the PR":         {"check_run.created.json", "check_run", "Codertocat/Hello-World#2"},
		"a check run without a PR names its head":    {"check_run.rerequested.json", "check_run", "github/hello-world@d6fde92930d4715a2b49857d24b940956b26d2d3"},
		"a push is about the repository":             {"push.push.json", "push", "Codertocat/Hello-World"},
		"an installation event has no repository":    {"installation.created.json", "installation", "installation/957387"},
		"a ping of an org hook has neither":          {"ping.ping.4.json", "ping", "app"},
		"another event does not borrow a PR's queue": {"pull_request.opened.json", "label", "Codertocat/Hello-World"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("testdata", "webhooks", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseWebhookFields(payload)
			if err != nil {
				t.Fatal(err)
			}
			if got := OrderKey(tc.event, f); got != tc.key {
				t.Errorf("OrderKey(%s, %s) = %q, want %q", tc.event, tc.file, got, tc.key)
			}
		})
	}
}

func TestParseWebhookFields(t *testing.T) {
	payload, err := os.ReadFile(filepath.Join("testdata", "webhooks", "check_suite.rerequested.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseWebhookFields(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := WebhookFields{
		Action:         "rerequested",
		InstallationID: 957387,
		Repo:           "Codertocat/Hello-World",
		CheckSuitePR:   2,
		CheckSuiteSHA:  "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
	}
	if f != want {
		t.Errorf("ParseWebhookFields = %+v\nwant %+v", f, want)
	}
}

func TestParseWebhookFieldsRefusesWhatIsNotAJSONObject(t *testing.T) {
	for _, payload := range []string{
		``, `null`, `[]`, `"x"`, `{`, `{"action": 5}`, `{"installation": {"id": "7"}}`,
		`{"action":"opened"} trailing`, `payload=%7B%7D`,
	} {
		if f, err := ParseWebhookFields([]byte(payload)); err == nil {
			t.Errorf("ParseWebhookFields(%q) = %+v, want an error", payload, f)
		}
	}
	if _, err := ParseWebhookFields([]byte(" \n{}")); err != nil {
		t.Errorf("ParseWebhookFields of an empty object: %v", err)
	}
}

// referenceWebhookFields is ParseWebhookFields done the plain way, with
// encoding/json: the scanner must agree with it.
func referenceWebhookFields(payload []byte) (WebhookFields, error) {
	type number struct {
		Number int `json:"number"`
	}
	type check struct {
		HeadSHA      string   `json:"head_sha"`
		PullRequests []number `json:"pull_requests"`
	}
	var p struct {
		Action       string `json:"action"`
		Installation *struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Repository *struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		PullRequest *number `json:"pull_request"`
		Issue       *number `json:"issue"`
		CheckSuite  *check  `json:"check_suite"`
		CheckRun    *check  `json:"check_run"`
	}
	if !bytes.HasPrefix(bytes.TrimLeft(payload, " \t\r\n"), []byte("{")) {
		return WebhookFields{}, errors.New("not an object")
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return WebhookFields{}, err
	}
	var f WebhookFields
	f.Action = p.Action
	if p.Installation != nil {
		f.InstallationID = p.Installation.ID
	}
	if p.Repository != nil {
		f.Repo = p.Repository.FullName
	}
	if p.PullRequest != nil {
		f.PullRequest = p.PullRequest.Number
	}
	if p.Issue != nil {
		f.Issue = p.Issue.Number
	}
	for _, c := range []struct {
		from *check
		pr   *int
		sha  *string
	}{{p.CheckSuite, &f.CheckSuitePR, &f.CheckSuiteSHA}, {p.CheckRun, &f.CheckRunPR, &f.CheckRunSHA}} {
		if c.from != nil {
			*c.sha = c.from.HeadSHA
			if len(c.from.PullRequests) > 0 {
				*c.pr = c.from.PullRequests[0].Number
			}
		}
	}
	return f, nil
}

func checkAgainstReference(t *testing.T, payload []byte) {
	t.Helper()
	got, err := ParseWebhookFields(payload)
	want, wantErr := referenceWebhookFields(payload)
	if (err == nil) != (wantErr == nil) || got != want {
		t.Fatalf("ParseWebhookFields(%q)\n = %+v, %v\nencoding/json: %+v, %v", payload, got, err, want, wantErr)
	}
}

// Mutations only ever insert or change to bytes that are not letters, so
// that encoding/json's case-insensitive field names cannot come into play.
const mutationBytes = "{}[],:\"\\ \t\n0123456789.-+\x01\xff"

func mutate(rng *rand.Rand, b []byte) []byte {
	b = slices.Clone(b)
	for range 1 + rng.IntN(3) {
		if len(b) == 0 {
			return b
		}
		i := rng.IntN(len(b))
		switch rng.IntN(4) {
		case 0: // change a byte
			b[i] = mutationBytes[rng.IntN(len(mutationBytes))]
		case 1: // insert one
			b = slices.Insert(b, i, mutationBytes[rng.IntN(len(mutationBytes))])
		case 2: // delete a short run
			b = slices.Delete(b, i, min(len(b), i+1+rng.IntN(8)))
		case 3: // cut the end
			b = b[:i]
		}
	}
	return b
}

func TestParseWebhookFieldsAgreesWithEncodingJSON(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example payloads (%v)", err)
	}
	handmade := []string{
		`{"action":"a\u00e9\n","repository":{"full_name":"o/r\/x"}}`,
		`{"act\u0069on":"opened"}`,
		"{\"action\":\"bad \xff UTF-8\",\"repository\":{\"full_name\":\"o/\xc3\"}}",
		`{"installation":null,"repository":null,"pull_request":null,"check_run":null}`,
		`{"installation":{"id":-0},"issue":{"number":12.0}}`,
		`{"installation":{"id":1e3}}`,
		`{"installation":{"id":9223372036854775808}}`,
		`{"check_suite":{"pull_requests":[null,{"number":3}],"head_sha":"abc"}}`,
		`{"check_suite":{"pull_requests":[5]}}`,
		`{"check_run":{"pull_requests":{}}}`,
		`{"pull_request":{"number":1},"pull_request":{"title":"x"}}`,
		`{"action":"x","action":null}`,
		`{"a":[1,2,{"b":[true,false,null]}],"c":-1.5e-3}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\t\"}",
		`{"a":tru}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`, `{"a":}`, `{} {}`, ` {} `,
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
		strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100),
	}
	for _, p := range handmade {
		checkAgainstReference(t, []byte(p))
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, file := range files {
		payload, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstReference(t, payload)
		for range 60 {
			checkAgainstReference(t, mutate(rng, payload))
		}
	}
}

func FuzzParseWebhookFields(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "webhooks", "*.json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if bytes.ContainsFunc(payload, unicode.IsLetter) {
			// Field names may differ in case, or repeat, in ways only
			// encoding/json's lenient matching or merging would notice;
			// check only that the scanner does not crash.
			ParseWebhookFields(payload)
			return
		}
		checkAgainstReference(t, payload)
	})
}
