package web

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
)

// releaseView is a release request's page.
type releaseView struct {
	ReleaseDetail
	Ignored   []ignoredReview // sorted by reviewer
	History   []entryView
	EventsURL string
}

type ignoredReview struct {
	Reviewer string
	Why      string
}

func (p *Pages) release(r *http.Request) (view, error) {
	id := r.PathValue("id")
	missing := notFound(fmt.Sprintf("There is no release with ID %s.", quote(id)))
	if !validSubject(id) {
		return view{}, missing
	}
	d, err := p.src.Release(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return view{}, missing
	}
	if err != nil {
		return view{}, fmt.Errorf("read release %s: %w", id, err)
	}
	v := releaseView{ReleaseDetail: d, EventsURL: subjectEventsURL(id)}
	for who, why := range d.Ignored {
		v.Ignored = append(v.Ignored, ignoredReview{Reviewer: who, Why: why})
	}
	sort.Slice(v.Ignored, func(i, j int) bool { return v.Ignored[i].Reviewer < v.Ignored[j].Reviewer })
	for _, e := range d.History {
		v.History = append(v.History, entryOf(e))
	}
	return view{name: "release", title: fmt.Sprintf("Release #%d in %s", d.Number, d.Repo), data: v}, nil
}
