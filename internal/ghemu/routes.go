package ghemu

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// routeHandler is how the emulator serves one operation of
// openapi.Operations; the two lists must name the same operations.
type routeHandler struct {
	auth   authKind
	handle handler
	// rules, if set, explains in GitHub's terms what is wrong with a body
	// the description rejects (its own messages can be as vague as
	// "doesn't match any schema from anyOf").
	rules func(body []byte) string
}

func handlers() map[string]routeHandler {
	return map[string]routeHandler{
		"GET /app": {authApp, getApp, nil},
		"POST /app/installations/{installation_id}/access_tokens":         {authApp, createAccessToken, nil},
		"GET /repos/{owner}/{repo}":                                       {authInstallation, getRepo, nil},
		"GET /repos/{owner}/{repo}/contents/{path}":                       {authInstallation, getContents, nil},
		"GET /repos/{owner}/{repo}/pulls/{pull_number}":                   {authInstallation, getPull, nil},
		"PATCH /repos/{owner}/{repo}/pulls/{pull_number}":                 {authInstallation, updatePull, nil},
		"POST /repos/{owner}/{repo}/check-runs":                           {authInstallation, createCheckRun, checkRunBodyRules},
		"GET /repos/{owner}/{repo}/check-runs/{check_run_id}":             {authInstallation, getCheckRun, nil},
		"PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}":           {authInstallation, updateCheckRun, checkRunBodyRules},
		"GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations": {authInstallation, listAnnotations, nil},
		"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":              {authInstallation, listCheckRunsForRef, nil},

		"POST /repos/{owner}/{repo}/issues/{issue_number}/comments":                         {authInstallation, createComment, nil},
		"GET /repos/{owner}/{repo}/issues/{issue_number}/comments":                          {authInstallation, listComments, nil},
		"GET /repos/{owner}/{repo}/issues/comments/{comment_id}":                            {authInstallation, getComment, nil},
		"PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}":                          {authInstallation, updateComment, nil},
		"DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}":                         {authInstallation, deleteComment, nil},
		"POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions":                 {authInstallation, createCommentReaction, nil},
		"GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions":                  {authInstallation, listCommentReactions, nil},
		"DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}": {authInstallation, deleteCommentReaction, nil},
		"GET /repos/{owner}/{repo}/issues/{issue_number}/labels":                            {authInstallation, listIssueLabels, nil},
		"POST /repos/{owner}/{repo}/issues/{issue_number}/labels":                           {authInstallation, addIssueLabels, nil},
		"DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}":                  {authInstallation, removeIssueLabel, nil},
		"GET /repos/{owner}/{repo}/collaborators/{username}/permission":                     {authInstallation, getCollaboratorPermission, nil},
		"GET /orgs/{org}/teams/{team_slug}/memberships/{username}":                          {authInstallation, getTeamMembership, nil},
		"GET /repos/{owner}/{repo}/pulls":                                                   {authInstallation, listPulls, nil},
		"POST /repos/{owner}/{repo}/pulls":                                                  {authInstallation, createPull, nil},
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews":                             {authInstallation, listReviews, nil},
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers":                 {authInstallation, listRequestedReviewers, nil},
		"POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers":                {authInstallation, requestReviewers, nil},
		"GET /repos/{owner}/{repo}/git/ref/{ref}":                                           {authInstallation, getRef, nil},
		"POST /repos/{owner}/{repo}/git/refs":                                               {authInstallation, createRef, nil},
		"PATCH /repos/{owner}/{repo}/git/refs/{ref}":                                        {authInstallation, updateRef, nil},
		"POST /repos/{owner}/{repo}/git/blobs":                                              {authInstallation, createBlob, nil},
		"GET /repos/{owner}/{repo}/git/blobs/{file_sha}":                                    {authInstallation, getBlob, nil},
		"POST /repos/{owner}/{repo}/git/trees":                                              {authInstallation, createTree, nil},
		"GET /repos/{owner}/{repo}/git/trees/{tree_sha}":                                    {authInstallation, getTree, nil},
		"POST /repos/{owner}/{repo}/git/commits":                                            {authInstallation, createGitCommit, nil},
		"GET /repos/{owner}/{repo}/git/commits/{commit_sha}":                                {authInstallation, getGitCommit, nil},
		"PUT /repos/{owner}/{repo}/contents/{path}":                                         {authInstallation, putContents, nil},
		"GET /repos/{owner}/{repo}/tarball/{ref}":                                           {authInstallation, downloadTarball, nil},

		"GET /users/{username}": {authInstallation, getUser, nil},
	}
}

// getRepo serves GET /repos/{owner}/{repo}.
func getRepo(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	return jsonReply(http.StatusOK, e.repoJSON(r, true))
}

// page is one page of a list, as per_page and page ask for it.
type page struct {
	lo, hi int
	link   string // the Link header, "" when everything fits one page
}

// paginate cuts n items the way GitHub does: 30 per page unless per_page
// says otherwise (at most 100), pages counted from 1, and a Link header
// with next/last/first/prev.
func (e *Emulator) paginate(c *call, n int) page {
	perPage, err := strconv.Atoi(c.query("per_page"))
	if err != nil || perPage < 1 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	num, err := strconv.Atoi(c.query("page"))
	if err != nil || num < 1 {
		num = 1
	}
	p := page{lo: min((num-1)*perPage, n)}
	p.hi = min(p.lo+perPage, n)
	last := max(1, int(math.Ceil(float64(n)/float64(perPage))))
	pageURL := func(k int) string {
		q := c.r.URL.Query()
		q.Set("page", strconv.Itoa(k))
		q.Set("per_page", strconv.Itoa(perPage))
		u := url.URL{Path: c.r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s%s>", e.url, u.String())
	}
	var links []string
	if num < last {
		links = append(links, pageURL(num+1)+`; rel="next"`, pageURL(last)+`; rel="last"`)
	}
	if num > 1 {
		links = append(links, pageURL(1)+`; rel="first"`, pageURL(min(num-1, last))+`; rel="prev"`)
	}
	p.link = strings.Join(links, ", ")
	return p
}

func (p page) header() http.Header {
	if p.link == "" {
		return nil
	}
	return http.Header{"Link": {p.link}}
}

// pageOf renders the page of items the request asks for, each with toJSON,
// and the Link header that points to the other pages.
func pageOf[T any](e *Emulator, c *call, items []T, toJSON func(T) obj) ([]obj, http.Header) {
	p := e.paginate(c, len(items))
	out := make([]obj, 0, p.hi-p.lo)
	for _, it := range items[p.lo:p.hi] {
		out = append(out, toJSON(it))
	}
	return out, p.header()
}
