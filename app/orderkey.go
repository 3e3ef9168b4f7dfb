package app

import (
	"encoding/json"
	"errors"
	"strconv"
)

// WebhookFields are the few payload fields intake reads: enough to file a
// delivery and to order it. Everything else is left to the handlers.
type WebhookFields struct {
	Action         string
	InstallationID int64
	Repo           string // repository.full_name, "" if none

	PullRequest   int    // pull_request.number
	Issue         int    // issue.number (an issue_comment on a pull request names the PR here)
	CheckSuitePR  int    // check_suite.pull_requests[0].number
	CheckSuiteSHA string // check_suite.head_sha
	CheckRunPR    int    // check_run.pull_requests[0].number
	CheckRunSHA   string // check_run.head_sha
}

// webhookJSON mirrors WebhookFields' place in a payload; encoding/json skips
// the rest.
type webhookJSON struct {
	Action       string `json:"action"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	PullRequest *webhookNumber `json:"pull_request"`
	Issue       *webhookNumber `json:"issue"`
	CheckSuite  *webhookCheck  `json:"check_suite"`
	CheckRun    *webhookCheck  `json:"check_run"`
}

type webhookNumber struct {
	Number int `json:"number"`
}

type webhookCheck struct {
	HeadSHA      string          `json:"head_sha"`
	PullRequests []webhookNumber `json:"pull_requests"`
}

func (c *webhookCheck) pr() int {
	if c == nil || len(c.PullRequests) == 0 {
		return 0
	}
	return c.PullRequests[0].Number
}

func (c *webhookCheck) sha() string {
	if c == nil {
		return ""
	}
	return c.HeadSHA
}

func (n *webhookNumber) number() int {
	if n == nil {
		return 0
	}
	return n.Number
}

var errNotAnObject = errors.New("payload is not a JSON object")

// ParseWebhookFields reads WebhookFields from a payload, which must be a JSON
// object.
func ParseWebhookFields(payload []byte) (WebhookFields, error) {
	if !isJSONObject(payload) {
		return WebhookFields{}, errNotAnObject
	}
	var p webhookJSON
	if err := json.Unmarshal(payload, &p); err != nil {
		return WebhookFields{}, err
	}
	f := WebhookFields{
		Action:        p.Action,
		PullRequest:   p.PullRequest.number(),
		Issue:         p.Issue.number(),
		CheckSuitePR:  p.CheckSuite.pr(),
		CheckSuiteSHA: p.CheckSuite.sha(),
		CheckRunPR:    p.CheckRun.pr(),
		CheckRunSHA:   p.CheckRun.sha(),
	}
	if p.Installation != nil {
		f.InstallationID = p.Installation.ID
	}
	if p.Repository != nil {
		f.Repo = p.Repository.FullName
	}
	return f, nil
}

// isJSONObject reports whether payload starts, after white space, with '{'
// (json.Unmarshal checks the rest; it would accept a bare null).
func isJSONObject(payload []byte) bool {
	for _, c := range payload {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// OrderKey names the queue a delivery waits in: deliveries with the same key
// are handled one at a time, in the order they arrived. Everything about one
// pull request (its events, reviews, comments and checks) shares
// "owner/repo#12"; checks not tied to a pull request share their commit,
// "owner/repo@sha"; other repository events share "owner/repo"; events
// without a repository share "installation/5", or "app" without either.
func OrderKey(event string, f WebhookFields) string {
	if f.Repo == "" {
		if f.InstallationID != 0 {
			return "installation/" + strconv.FormatInt(f.InstallationID, 10)
		}
		return "app"
	}
	var pr int
	var sha string
	switch event {
	case "pull_request", "pull_request_review", "pull_request_review_comment", "pull_request_review_thread":
		pr = f.PullRequest
	case "issue_comment", "issues":
		pr = f.Issue
	case "check_suite":
		pr, sha = f.CheckSuitePR, f.CheckSuiteSHA
	case "check_run":
		pr, sha = f.CheckRunPR, f.CheckRunSHA
	}
	switch {
	case pr > 0:
		return f.Repo + "#" + strconv.Itoa(pr)
	case sha != "":
		return f.Repo + "@" + sha
	default:
		return f.Repo
	}
}
