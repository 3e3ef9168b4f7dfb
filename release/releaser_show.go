package release

import (
	"context"
	"fmt"

	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/markdown"
)

// show brings the release's check run (on its manifest commit) and the
// comments of its current state up to date.
func (w *Releaser) show(ctx context.Context, repo checks.Repo, r Release) error {
	view, err := w.view(ctx, r)
	if err != nil {
		return err
	}
	if r.ManifestCommit != "" && (r.Published == r.Revision || r.State.Finished()) {
		if err := w.checkRun(ctx, repo, r, ReleaseCheckRun(view, w.policy, r.Verdict)); err != nil {
			return err
		}
	}
	var research, releasePR string
	switch r.State {
	case InReview:
		if r.Published == r.Revision {
			research = ReadyComment(view)
		}
	case Returned:
		research = ReturnedComment(view, r.Verdict)
	case Released:
		research, releasePR = ReleasedComment(view), ReleasePRComment(view)
	case Rejected:
		research = RejectedComment(view)
	case Withdrawn:
		research = WithdrawnComment(view)
	}
	if err := w.commentOnce(ctx, repo, r.PR, research); err != nil {
		return err
	}
	if r.ReleasePR != 0 {
		return w.commentOnce(ctx, repo, r.ReleasePR, releasePR)
	}
	return nil
}

// view is what GitHub shows of r: the request with its current manifest.
func (w *Releaser) view(ctx context.Context, r Release) (Request, error) {
	files, err := w.store.Manifest(ctx, r.ID, r.Revision)
	if err != nil {
		return Request{}, err
	}
	return Request{ID: r.ID, Number: r.Number, Revision: r.Revision, State: r.State, Requester: r.Requester,
		Backend: r.Backend, ResearchPR: r.PR, ReleasePR: r.ReleasePR, Branch: r.Branch, ManifestCommit: r.ManifestCommit,
		Files: files, Tainted: r.Tainted != "", Reason: r.Reason}, nil
}

// checkRun shows v on the release's check run: created with it the first
// time (looked for first if an earlier create's answer may have been
// lost), updated after that.
func (w *Releaser) checkRun(ctx context.Context, repo checks.Repo, r Release, v CheckRun) error {
	externalID := fmt.Sprintf("release:%s:%d", r.ID, r.Published)
	id := r.CheckRunID
	if id == 0 && r.CheckRunSent {
		ref, found, err := w.gh.FindCheckRun(ctx, repo, r.ManifestCommit, CheckRunName, externalID)
		if err != nil {
			return err
		}
		if found {
			id = ref.ID
			if err := w.store.SetCheckRun(ctx, r.ID, id); err != nil {
				return err
			}
		}
	}
	upd := checks.CheckRunUpdate{Status: v.Status, Output: &v.Output}
	if v.Status == "completed" {
		upd.Conclusion, upd.CompletedAt = v.Conclusion, w.now()
	}
	if id != 0 {
		return w.gh.UpdateCheckRun(ctx, repo, id, upd)
	}
	if err := w.store.SendingCheckRun(ctx, r.ID); err != nil {
		return err
	}
	id, err := w.gh.CreateCheckRun(ctx, repo, checks.NewCheckRun{Name: CheckRunName, HeadSHA: r.ManifestCommit,
		ExternalID: externalID, Status: v.Status, Conclusion: upd.Conclusion, CompletedAt: upd.CompletedAt,
		Output: &v.Output, DetailsURL: w.detailsURL(r)})
	if err != nil {
		return err
	}
	logging.From(ctx).Debug("release check run created", logging.KeyCheckRun, id)
	return w.store.SetCheckRun(ctx, r.ID, id)
}

// detailsURL is where the check run's details link goes: the release's
// page on the bot, or its pull request.
func (w *Releaser) detailsURL(r Release) string {
	if w.page != nil {
		return w.page(r.ID)
	}
	return w.prURL(r.Repo, r.ReleasePR)
}

// commentOnce posts body on issue number unless a comment with its marker
// is there already: a retried step never comments twice.
func (w *Releaser) commentOnce(ctx context.Context, repo checks.Repo, number int, body string) error {
	if body == "" {
		return nil
	}
	m := Marker(body)
	key := fmt.Sprintf("%s#%d %s", repo.FullName(), number, m)
	if m != "" && !w.posted[key] {
		_, found, err := w.gh.FindComment(ctx, repo, number, m)
		if err != nil {
			return err
		}
		w.posted[key] = found
	}
	if w.posted[key] {
		return nil
	}
	if _, err := w.gh.CreateComment(ctx, repo, number, body); err != nil {
		return err
	}
	w.posted[key] = m != ""
	return nil
}

// releaseTitle is the release pull request's title.
func releaseTitle(r Release, m Manifest) string {
	return fmt.Sprintf("Release #%d: %s from #%d", r.Number, markdown.Plural(len(m.Files), "file"), r.PR)
}

// releaseBody is the release pull request's description.
func releaseBody(r Release, m Manifest, researchURL string) string {
	return fmt.Sprintf("Output checkers: please review the manifest of this release, `%s/manifest.md`, "+
		"and approve or request changes in a review of this pull request.\n\n"+
		"Asked for by %s on the research pull request %s ([link](%s)), from the %s backend. "+
		"No data has left the secure zone: once enough checkers approve the manifest commit, "+
		"fivesafes commits the approved files, byte for byte, to this pull request.\n",
		ManifestDir(r.ID), markdown.Mention(m.Requester), prRef(r.PR), researchURL, markdown.Code(r.Backend, 64))
}
