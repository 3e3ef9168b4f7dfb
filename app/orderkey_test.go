package app

import (
	"os"
	"path/filepath"
	"testing"
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
