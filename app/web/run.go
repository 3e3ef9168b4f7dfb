package web

import (
	"errors"
	"fmt"
	"net/http"
)

// runView is a job request's page.
type runView struct {
	RunDetail
	EventsURL string
}

func (p *Pages) run(r *http.Request) (view, error) {
	id := r.PathValue("id")
	missing := notFound(fmt.Sprintf("There is no run with ID %s.", quote(id)))
	if !validSubject(id) {
		return view{}, missing
	}
	d, err := p.src.Run(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return view{}, missing
	}
	if err != nil {
		return view{}, fmt.Errorf("read run %s: %w", id, err)
	}
	return view{name: "run", title: fmt.Sprintf("Run #%d in %s", d.Number, d.Repo),
		data: runView{RunDetail: d, EventsURL: subjectEventsURL(id)}}, nil
}
