package app

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fivesafes/fivesafes/internal/inbox"
)

// commentDelivery is the example issue_comment delivery with edit applied
// to its decoded payload.
func commentDelivery(t *testing.T, edit func(p map[string]any)) inbox.Delivery {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(webhookExample(t, "issue_comment.created.json"), &p); err != nil {
		t.Fatal(err)
	}
	p["comment"].(map[string]any)["body"] = "/run all"
	p["issue"].(map[string]any)["pull_request"] = map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
	p["installation"] = map[string]any{"id": 7}
	edit(p)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return inbox.Delivery{GUID: "g", Event: "issue_comment", Payload: b}
}

// Comments that are not commands for the bot never reach a command: the
// handler has no Runs, GitHub or Replies here, so any use would panic.
func TestCommentsThatAreNotCommandsAreIgnored(t *testing.T) {
	t.Parallel()
	sub := func(p map[string]any, key string) map[string]any { return p[key].(map[string]any) }
	cases := map[string]func(p map[string]any){
		"an edited comment":  func(p map[string]any) { p["action"] = "edited" },
		"a deleted comment":  func(p map[string]any) { p["action"] = "deleted" },
		"an issue, not a PR": func(p map[string]any) { delete(sub(p, "issue"), "pull_request") },
		"a bot's comment": func(p map[string]any) {
			sub(sub(p, "comment"), "user")["type"] = "Bot"
			sub(p, "sender")["type"] = "Bot"
		},
		"this app's comment": func(p map[string]any) {
			sub(sub(p, "comment"), "user")["login"] = "fivesafes[bot]"
			sub(p, "sender")["login"] = "fivesafes[bot]"
		},
		"no command line":            func(p map[string]any) { sub(p, "comment")["body"] = "Ran it yesterday: /run all worked." },
		"a command in a code block":  func(p map[string]any) { sub(p, "comment")["body"] = "```\n/run all\n```" },
		"a command in a quote":       func(p map[string]any) { sub(p, "comment")["body"] = "> /run all\n\nWhy did this fail?" },
		"a command in inline code":   func(p map[string]any) { sub(p, "comment")["body"] = "Try `/run all` next time." },
		"a path, not a command line": func(p map[string]any) { sub(p, "comment")["body"] = "see /output/table.csv" },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := &IssueCommentHandler{}
			if err := h.Handle(context.Background(), commentDelivery(t, edit)); err != nil {
				t.Fatalf("handled: %v", err)
			}
		})
	}
}
