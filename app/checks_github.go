package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
)

// ChecksGitHub is checks.GitHub over go-github, acting as the installation
// each repository names. Errors wrap go-github's own, so Retryable and
// RetryAfter can read them.
type ChecksGitHub struct {
	clients *ClientFactory
}

var _ checks.GitHub = (*ChecksGitHub)(nil)

// NewChecksGitHub returns the check service's view of GitHub.
func NewChecksGitHub(f *ClientFactory) *ChecksGitHub {
	return &ChecksGitHub{clients: f}
}

// maxContentBytes is GitHub's own limit for the contents API with the raw
// media type.
const maxContentBytes = 100 << 20

// FileAt reads one file at a commit with the raw media type, which serves
// files up to 100 MB. It stops reading past maxBytes.
func (g *ChecksGitHub) FileAt(ctx context.Context, repo checks.Repo, sha, path string, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 || maxBytes > maxContentBytes {
		maxBytes = maxContentBytes
	}
	what := fmt.Sprintf("%s at %s in %s", path, shortSHA(sha), repo.FullName())
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	u := fmt.Sprintf("repos/%s/%s/contents/%s?ref=%s",
		url.PathEscape(repo.Owner), url.PathEscape(repo.Name), escapePath(path), url.QueryEscape(sha))
	req, err := c.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	req.Header.Set("Accept", "application/vnd.github.raw")
	resp, err := c.BareDo(req)
	if err != nil {
		var er *github.ErrorResponse
		switch {
		case resp != nil && resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("read %s: %w (%w)", what, checks.ErrNotFound, err)
		case errors.As(err, &er) && slices.ContainsFunc(er.Errors, func(e github.Error) bool { return e.Code == "too_large" }):
			// Over the 100 MB the contents API serves at all.
			return nil, fmt.Errorf("read %s: %w (%w)", what, checks.ErrTooLarge, err)
		}
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d: %w", what, resp.ContentLength, maxBytes, checks.ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%s is over the limit of %d bytes: %w", what, maxBytes, checks.ErrTooLarge)
	}
	// For anything but a file (or a symlink to one) GitHub ignores the raw
	// media type and answers with JSON: a list for a directory, an object
	// for a submodule.
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" {
		if kind := notAFile(data); kind != "" {
			return nil, fmt.Errorf("read %s: it is a %s, not a file", what, kind)
		}
	}
	return data, nil
}

// notAFile names what a JSON contents answer describes if it is not a file.
func notAFile(data []byte) string {
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("[")) {
		return "directory"
	}
	var rc github.RepositoryContent
	if err := json.Unmarshal(trimmed, &rc); err == nil && rc.GetType() != "" && rc.GetType() != "file" {
		return rc.GetType()
	}
	return ""
}

// FindCheckRun finds this app's check run on sha with the name and external
// ID, the most recent (highest ID) when a retried create made two.
func (g *ChecksGitHub) FindCheckRun(ctx context.Context, repo checks.Repo, sha, name, externalID string) (checks.CheckRunRef, bool, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return checks.CheckRunRef{}, false, fmt.Errorf("find check run %q: %w", name, err)
	}
	opts := &github.ListCheckRunsOptions{
		CheckName:   github.Ptr(name),
		Filter:      github.Ptr("all"),
		AppID:       github.Ptr(g.clients.AppID()),
		ListOptions: github.ListOptions{PerPage: 100},
	}
	var best *github.CheckRun
	for {
		res, resp, err := c.Checks.ListCheckRunsForRef(ctx, repo.Owner, repo.Name, sha, opts)
		if err != nil {
			return checks.CheckRunRef{}, false, fmt.Errorf("list check runs %q on %s in %s: %w", name, shortSHA(sha), repo.FullName(), err)
		}
		for _, run := range res.CheckRuns {
			if run.GetName() != name || run.GetExternalID() != externalID {
				continue
			}
			if id := run.GetApp().GetID(); id != 0 && id != g.clients.AppID() {
				continue // another app's run of the same name
			}
			if best == nil || run.GetID() > best.GetID() {
				best = run
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if best == nil {
		return checks.CheckRunRef{}, false, nil
	}
	return checks.CheckRunRef{ID: best.GetID(), Status: best.GetStatus(), Conclusion: best.GetConclusion()}, true, nil
}

// CreateCheckRun creates a check run and returns its ID.
func (g *ChecksGitHub) CreateCheckRun(ctx context.Context, repo checks.Repo, run checks.NewCheckRun) (int64, error) {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return 0, fmt.Errorf("create check run %q: %w", run.Name, err)
	}
	opts := github.CreateCheckRunOptions{
		Name:       run.Name,
		HeadSHA:    run.HeadSHA,
		ExternalID: optional(run.ExternalID),
		DetailsURL: optional(run.DetailsURL),
		Status:     optional(run.Status),
		Conclusion: optional(run.Conclusion),
		Output:     checkRunOutput(run.Output),
	}
	if !run.StartedAt.IsZero() {
		opts.StartedAt = &github.Timestamp{Time: run.StartedAt}
	}
	if !run.CompletedAt.IsZero() {
		opts.CompletedAt = &github.Timestamp{Time: run.CompletedAt}
	}
	for _, a := range run.Actions {
		opts.Actions = append(opts.Actions, &github.CheckRunAction{Label: a.Label, Description: a.Description, Identifier: a.Identifier})
	}
	created, _, err := c.Checks.CreateCheckRun(ctx, repo.Owner, repo.Name, opts)
	if err != nil {
		return 0, fmt.Errorf("create check run %q on %s in %s: %w", run.Name, shortSHA(run.HeadSHA), repo.FullName(), err)
	}
	return created.GetID(), nil
}

// checkRunPatch is the body of PATCH /repos/{owner}/{repo}/check-runs/{id}.
// go-github's UpdateCheckRunOptions always sends a name, which the update
// does not know and GitHub does not need.
type checkRunPatch struct {
	Status      *string                `json:"status,omitempty"`
	Conclusion  *string                `json:"conclusion,omitempty"`
	CompletedAt *github.Timestamp      `json:"completed_at,omitempty"`
	Output      *github.CheckRunOutput `json:"output,omitempty"`
	// Actions is sent only when set: a pointer to an empty list sends
	// "actions": [], which removes the run's buttons.
	Actions *[]github.CheckRunAction `json:"actions,omitempty"`
}

// UpdateCheckRun changes a check run's status, conclusion, output and
// buttons.
func (g *ChecksGitHub) UpdateCheckRun(ctx context.Context, repo checks.Repo, id int64, upd checks.CheckRunUpdate) error {
	c, err := g.clients.Installation(repo.InstallationID)
	if err != nil {
		return fmt.Errorf("update check run %d: %w", id, err)
	}
	patch := checkRunPatch{
		Status:     optional(upd.Status),
		Conclusion: optional(upd.Conclusion),
		Output:     checkRunOutput(upd.Output),
		Actions:    checkRunActions(upd.Actions),
	}
	if !upd.CompletedAt.IsZero() {
		patch.CompletedAt = &github.Timestamp{Time: upd.CompletedAt}
	}
	req, err := c.NewRequest(ctx, http.MethodPatch, fmt.Sprintf("repos/%s/%s/check-runs/%d", url.PathEscape(repo.Owner), url.PathEscape(repo.Name), id), patch)
	if err != nil {
		return fmt.Errorf("update check run %d in %s: %w", id, repo.FullName(), err)
	}
	if _, err := c.Do(req, nil); err != nil {
		return fmt.Errorf("update check run %d in %s: %w", id, repo.FullName(), err)
	}
	return nil
}

// checkRunActions keeps nil (leave the buttons) apart from empty (remove
// them).
func checkRunActions(in []checks.CheckRunAction) *[]github.CheckRunAction {
	if in == nil {
		return nil
	}
	out := make([]github.CheckRunAction, len(in))
	for i, a := range in {
		out[i] = github.CheckRunAction{Label: a.Label, Description: a.Description, Identifier: a.Identifier}
	}
	return &out
}

func checkRunOutput(o *checks.CheckRunOutput) *github.CheckRunOutput {
	if o == nil {
		return nil
	}
	return &github.CheckRunOutput{
		Title:       github.Ptr(o.Title),
		Summary:     github.Ptr(o.Summary),
		Text:        optional(o.Text),
		Annotations: annotations(o.Annotations),
	}
}

// annotations maps to GitHub's form. GitHub wants an end line, and takes
// columns only on a one-line annotation.
func annotations(in []checks.Annotation) []*github.CheckRunAnnotation {
	if len(in) == 0 {
		return nil
	}
	out := make([]*github.CheckRunAnnotation, len(in))
	for i, a := range in {
		start := max(a.StartLine, 1)
		end := max(a.EndLine, start)
		ga := &github.CheckRunAnnotation{
			Path:            github.Ptr(a.Path),
			StartLine:       github.Ptr(start),
			EndLine:         github.Ptr(end),
			AnnotationLevel: github.Ptr(a.Level),
			Message:         github.Ptr(a.Message),
			Title:           optional(a.Title),
		}
		if start == end && a.StartColumn > 0 {
			ga.StartColumn = github.Ptr(a.StartColumn)
			ga.EndColumn = github.Ptr(max(a.EndColumn, a.StartColumn))
		}
		out[i] = ga
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// escapePath escapes each segment of a repository path for a URL.
func escapePath(p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
