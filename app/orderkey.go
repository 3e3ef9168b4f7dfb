package app

import "strconv"

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
