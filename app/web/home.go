package web

import (
	"fmt"
	"net/http"
)

const recent = 20 // runs and releases on the home page

// homeView is the home page: what happened lately.
type homeView struct {
	Runs     []Run
	Releases []Release
}

func (p *Pages) home(r *http.Request) (view, error) {
	runs, err := p.src.RecentRuns(r.Context(), recent)
	if err != nil {
		return view{}, fmt.Errorf("read recent runs: %w", err)
	}
	releases, err := p.src.RecentReleases(r.Context(), recent)
	if err != nil {
		return view{}, fmt.Errorf("read recent releases: %w", err)
	}
	return view{name: "home", title: "Runs and releases", nav: "home",
		data: homeView{Runs: runs[:min(len(runs), recent)], Releases: releases[:min(len(releases), recent)]}}, nil
}
