package ghemu

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The JSON shapes below are shared by REST responses (validated against
// GitHub's description on every request) and webhook payloads, and follow
// the example payloads in shared/github/webhook-examples.

type obj = map[string]any

const htmlBase = "https://github.com"

// ts is a timestamp as GitHub writes it, or null.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// orNull is s, or null when s is empty.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// userID is a stable ID for a login, so that tests see the same IDs on
// every run.
func userID(login string) int64 {
	h := fnv.New32a()
	h.Write([]byte(login))
	return int64(h.Sum32()%90_000_000) + 10_000_000
}

// nodeID is a legacy GraphQL node ID ("04:User42", base64).
func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%02d:%s%d", len(kind), kind, id))
}

func (e *Emulator) userJSON(login string) obj {
	id := userID(login)
	api := e.url + "/users/" + login
	kind, html := "User", htmlBase+"/"+login
	if app, ok := strings.CutSuffix(login, "[bot]"); ok {
		kind, html = "Bot", htmlBase+"/apps/"+app
	}
	return obj{
		"login": login, "id": id, "node_id": nodeID("User", id),
		"avatar_url":          fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            html,
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                kind,
		"user_view_type":      "public",
		"site_admin":          false,
	}
}

// repoJSON is the "repository" shape; full adds what GET /repos/{owner}/{repo}
// returns on top ("full-repository").
func (e *Emulator) repoJSON(r *repo, full bool) obj {
	api := e.url + "/repos/" + r.fullName()
	html := htmlBase + "/" + r.fullName()
	visibility := "public"
	if r.private {
		visibility = "private"
	}
	openPulls := 0
	for _, p := range r.pulls {
		if p.state == "open" {
			openPulls++
		}
	}
	o := obj{
		"id": r.id, "node_id": nodeID("Repository", r.id), "name": r.name, "full_name": r.fullName(),
		"private": r.private, "owner": e.userJSON(r.owner), "html_url": html, "description": nil,
		"fork": r.parent != nil, "url": api,
		"archive_url":       api + "/{archive_format}{/ref}",
		"assignees_url":     api + "/assignees{/user}",
		"blobs_url":         api + "/git/blobs{/sha}",
		"branches_url":      api + "/branches{/branch}",
		"collaborators_url": api + "/collaborators{/collaborator}",
		"comments_url":      api + "/comments{/number}",
		"commits_url":       api + "/commits{/sha}",
		"compare_url":       api + "/compare/{base}...{head}",
		"contents_url":      api + "/contents/{+path}",
		"contributors_url":  api + "/contributors",
		"deployments_url":   api + "/deployments",
		"downloads_url":     api + "/downloads",
		"events_url":        api + "/events",
		"forks_url":         api + "/forks",
		"git_commits_url":   api + "/git/commits{/sha}",
		"git_refs_url":      api + "/git/refs{/sha}",
		"git_tags_url":      api + "/git/tags{/sha}",
		"hooks_url":         api + "/hooks",
		"issue_comment_url": api + "/issues/comments{/number}",
		"issue_events_url":  api + "/issues/events{/number}",
		"issues_url":        api + "/issues{/number}",
		"keys_url":          api + "/keys{/key_id}",
		"labels_url":        api + "/labels{/name}",
		"languages_url":     api + "/languages",
		"merges_url":        api + "/merges",
		"milestones_url":    api + "/milestones{/number}",
		"notifications_url": api + "/notifications{?since,all,participating}",
		"pulls_url":         api + "/pulls{/number}",
		"releases_url":      api + "/releases{/id}",
		"stargazers_url":    api + "/stargazers",
		"statuses_url":      api + "/statuses/{sha}",
		"subscribers_url":   api + "/subscribers",
		"subscription_url":  api + "/subscription",
		"tags_url":          api + "/tags",
		"teams_url":         api + "/teams",
		"trees_url":         api + "/git/trees{/sha}",
		"git_url":           "git://github.com/" + r.fullName() + ".git",
		"ssh_url":           "git@github.com:" + r.fullName() + ".git",
		"clone_url":         html + ".git",
		"svn_url":           html,
		"mirror_url":        nil,
		"homepage":          nil,
		"language":          nil,
		"license":           nil,
		"created_at":        ts(r.createdAt),
		"updated_at":        ts(r.pushedAt),
		"pushed_at":         ts(r.pushedAt),
		"size":              0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0,
		"forks_count": 0, "forks": 0, "open_issues_count": openPulls, "open_issues": openPulls,
		"has_issues": true, "has_projects": true, "has_downloads": true, "has_wiki": true,
		"has_pages": false, "has_discussions": false, "archived": false, "disabled": false,
		"allow_forking": true, "is_template": false, "web_commit_signoff_required": false,
		"topics": []string{}, "visibility": visibility, "default_branch": r.defaultBranch,
		"allow_merge_commit": true, "allow_squash_merge": true, "allow_rebase_merge": true,
		"allow_auto_merge": false, "delete_branch_on_merge": false, "allow_update_branch": false,
		"custom_properties": obj{},
	}
	if full {
		o["network_count"], o["subscribers_count"] = 0, 0
		if r.parent != nil {
			root := r.parent
			for root.parent != nil {
				root = root.parent
			}
			o["parent"], o["source"] = e.repoJSON(r.parent, false), e.repoJSON(root, false)
		}
	}
	return o
}

func (e *Emulator) pullJSON(base *repo, p *pull) obj {
	api := e.url + "/repos/" + base.fullName()
	html := htmlBase + "/" + base.fullName() + "/pull/" + strconv.Itoa(p.number)
	n := strconv.Itoa(p.number)
	headSHA := p.headSHA()
	labels := []obj{}
	for _, l := range p.labels {
		labels = append(labels, e.labelJSON(base, l))
	}
	reviewers, teams := []obj{}, []obj{}
	for _, u := range p.requestedReviewers {
		reviewers = append(reviewers, e.userJSON(u))
	}
	for _, slug := range p.requestedTeams {
		if t := e.teamLocked(base.owner, slug); t != nil {
			teams = append(teams, e.teamJSON(t))
		}
	}
	var mergeable any
	mergeableState := "unknown"
	if p.mergeable != nil {
		mergeable, mergeableState = *p.mergeable, map[bool]string{true: "clean", false: "dirty"}[*p.mergeable]
	}
	link := func(href string) obj { return obj{"href": href} }
	return obj{
		"url": api + "/pulls/" + n, "id": p.id, "node_id": nodeID("PullRequest", p.id),
		"html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch",
		"issue_url": api + "/issues/" + n, "number": p.number, "state": p.state, "locked": false,
		"title": p.title, "user": e.userJSON(p.user), "body": orNull(p.body),
		"created_at": ts(p.createdAt), "updated_at": ts(p.updatedAt), "closed_at": ts(p.closedAt),
		"merged_at": nil, "merge_commit_sha": nil, "assignee": nil, "assignees": []obj{},
		"requested_reviewers": reviewers, "requested_teams": teams, "labels": labels, "milestone": nil,
		"draft": p.draft, "commits_url": api + "/pulls/" + n + "/commits",
		"review_comments_url": api + "/pulls/" + n + "/comments",
		"review_comment_url":  api + "/pulls/comments{/number}",
		"comments_url":        api + "/issues/" + n + "/comments",
		"statuses_url":        api + "/statuses/" + headSHA,
		"head":                e.branchJSON(p.headRepo, p.headRef, headSHA),
		"base":                e.branchJSON(base, p.baseRef, base.branches[p.baseRef]),
		"_links": obj{
			"self": link(api + "/pulls/" + n), "html": link(html), "issue": link(api + "/issues/" + n),
			"comments":        link(api + "/issues/" + n + "/comments"),
			"review_comments": link(api + "/pulls/" + n + "/comments"),
			"review_comment":  link(api + "/pulls/comments{/number}"),
			"commits":         link(api + "/pulls/" + n + "/commits"),
			"statuses":        link(api + "/statuses/" + headSHA),
		},
		"author_association": association(base, p.user), "auto_merge": nil, "active_lock_reason": nil,
		"merged": false, "mergeable": mergeable, "rebaseable": mergeable, "mergeable_state": mergeableState,
		"merged_by": nil, "comments": 0, "review_comments": 0, "maintainer_can_modify": false,
		"commits": 1, "additions": 0, "deletions": 0, "changed_files": 0,
	}
}

func (e *Emulator) teamJSON(t *team) obj {
	api := fmt.Sprintf("%s/organizations/%d/team/%d", e.url, userID(t.org), t.id)
	return obj{
		"id": t.id, "node_id": nodeID("Team", t.id), "name": t.slug, "slug": t.slug, "description": nil,
		"privacy": "closed", "notification_setting": "notifications_enabled", "permission": "pull",
		"url": api, "html_url": htmlBase + "/orgs/" + t.org + "/teams/" + t.slug,
		"members_url": api + "/members{/member}", "repositories_url": api + "/repos",
		"type": "organization", "organization_id": userID(t.org), "parent": nil,
	}
}

func (e *Emulator) labelJSON(r *repo, name string) obj {
	id := userID(r.fullName() + "\x00" + name)
	return obj{
		"id": id, "node_id": nodeID("Label", id), "url": e.url + "/repos/" + r.fullName() + "/labels/" + url.PathEscape(name),
		"name": name, "color": "ededed", "default": false, "description": nil,
	}
}

func (e *Emulator) branchJSON(r *repo, ref, sha string) obj {
	return obj{
		"label": r.owner + ":" + ref, "ref": ref, "sha": sha,
		"user": e.userJSON(r.owner), "repo": e.repoJSON(r, false),
	}
}

// pullMinimalJSON is how check runs and suites mention a pull request.
func (e *Emulator) pullMinimalJSON(base *repo, p *pull) obj {
	side := func(r *repo, ref, sha string) obj {
		return obj{"ref": ref, "sha": sha, "repo": obj{"id": r.id, "url": e.url + "/repos/" + r.fullName(), "name": r.name}}
	}
	return obj{
		"url": e.url + "/repos/" + base.fullName() + "/pulls/" + strconv.Itoa(p.number), "id": p.id, "number": p.number,
		"head": side(p.headRepo, p.headRef, p.headSHA()),
		"base": side(base, p.baseRef, base.branches[p.baseRef]),
	}
}

// pullsForSHALocked lists r's open pull requests whose head is sha on a
// branch of r itself: GitHub leaves pull requests from forks out of check
// runs and suites.
func (e *Emulator) pullsForSHALocked(r *repo, sha string) []obj {
	out := []obj{}
	for _, p := range sortedPulls(r) {
		if p.state == "open" && p.headRepo == r && p.headSHA() == sha {
			out = append(out, e.pullMinimalJSON(r, p))
		}
	}
	return out
}

func installationJSON(id int64) obj {
	return obj{"id": id, "node_id": nodeID("Installation", id)}
}

// appSlug names the emulated app.
const appSlug = "fivesafes"

func (e *Emulator) appJSON() obj {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return obj{
		"id": e.appID, "slug": appSlug, "node_id": nodeID("App", e.appID),
		"client_id": fmt.Sprintf("Iv1.%016x", e.appID),
		"owner":     e.userJSON("fivesafes-dev"), "name": appSlug,
		"description":  "Runs OpenSAFELY-style studies from pull requests (emulated)",
		"external_url": "https://fivesafes.example", "html_url": htmlBase + "/apps/" + appSlug,
		"created_at": ts(created), "updated_at": ts(created),
		"permissions": appPermissions(),
		"events":      []string{"check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review"},
	}
}

func appPermissions() obj {
	return obj{
		"checks": "write", "contents": "write", "issues": "write", "metadata": "read",
		"members": "read", "pull_requests": "write",
	}
}

func (e *Emulator) checkRunJSON(c *CheckRun, forWebhook bool) obj {
	r := e.st.repos[repoKey(c.Repo)]
	api := fmt.Sprintf("%s/repos/%s/check-runs/%d", e.url, c.Repo, c.ID)
	suite := obj{"id": c.CheckSuiteID}
	if forWebhook {
		suite = e.checkSuiteJSON(e.suiteLocked(r, c.HeadSHA))
	}
	actions := []obj{}
	for _, a := range c.Actions {
		actions = append(actions, obj{"label": a.Label, "description": a.Description, "identifier": a.Identifier})
	}
	o := obj{
		"id": c.ID, "node_id": nodeID("CheckRun", c.ID), "head_sha": c.HeadSHA, "name": c.Name,
		"external_id": c.ExternalID, "url": api,
		"html_url":    fmt.Sprintf("%s/%s/runs/%d", htmlBase, c.Repo, c.ID),
		"details_url": orNull(c.DetailsURL), "status": c.Status, "conclusion": orNull(c.Conclusion),
		"started_at": ts(c.StartedAt), "completed_at": ts(c.CompletedAt),
		"output": obj{
			"title": orNull(c.Output.Title), "summary": orNull(c.Output.Summary), "text": orNull(c.Output.Text),
			"annotations_count": len(c.Annotations), "annotations_url": api + "/annotations",
		},
		"check_suite": suite, "app": e.appJSON(), "pull_requests": e.pullsForSHALocked(r, c.HeadSHA),
	}
	if forWebhook {
		o["actions"] = actions
	}
	return o
}

// checkSuiteJSON is the check_suite object of webhooks.
func (e *Emulator) checkSuiteJSON(s *checkSuite) obj {
	runs := e.checkRunsLocked(s.repo, s.headSHA)
	status, conclusion := suiteStatus(runs)
	api := fmt.Sprintf("%s/repos/%s/check-suites/%d", e.url, s.repo.fullName(), s.id)
	o := obj{
		"id": s.id, "node_id": nodeID("CheckSuite", s.id), "head_branch": orNull(s.headRef),
		"head_sha": s.headSHA, "status": status, "conclusion": orNull(conclusion), "url": api,
		"before": orNull(s.before), "after": s.headSHA,
		"pull_requests": e.pullsForSHALocked(s.repo, s.headSHA), "app": e.appJSON(),
		"created_at": ts(s.createdAt), "updated_at": ts(e.timestamp()),
		"latest_check_runs_count": len(runs), "check_runs_url": api + "/check-runs",
		"rerequestable": true, "runs_rerequestable": true,
	}
	if c := e.st.commits[s.headSHA]; c != nil {
		o["head_commit"] = obj{
			"id": c.sha, "tree_id": c.treeSHA, "message": c.message, "timestamp": ts(c.committer.at),
			"author":    obj{"name": c.author.name, "email": c.author.email},
			"committer": obj{"name": c.committer.name, "email": c.committer.email},
		}
	}
	return o
}

// suiteStatus sums up a suite's check runs the way GitHub shows them.
func suiteStatus(runs []*CheckRun) (status, conclusion string) {
	if len(runs) == 0 {
		return "queued", ""
	}
	rank := map[string]int{"success": 1, "skipped": 1, "neutral": 2, "stale": 3, "cancelled": 4, "timed_out": 5, "failure": 6, "action_required": 7}
	for _, r := range runs {
		if r.Status != "completed" {
			return "in_progress", ""
		}
		if rank[r.Conclusion] > rank[conclusion] {
			conclusion = r.Conclusion
		}
	}
	return "completed", conclusion
}

func (e *Emulator) annotationJSON(c *CheckRun, a Annotation) obj {
	col := func(n int) any {
		if n == 0 {
			return nil
		}
		return n
	}
	return obj{
		"path": a.Path, "blob_href": fmt.Sprintf("%s/%s/blob/%s/%s", htmlBase, c.Repo, c.HeadSHA, a.Path),
		"start_line": a.StartLine, "end_line": a.EndLine,
		"start_column": col(a.StartColumn), "end_column": col(a.EndColumn),
		"annotation_level": orNull(a.Level), "title": orNull(a.Title), "message": orNull(a.Message),
		"raw_details": orNull(a.RawDetails),
	}
}
