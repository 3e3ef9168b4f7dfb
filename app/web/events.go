package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	pageSize   = 50  // entries on a page of the log unless ?limit= says
	maxLimit   = 200 // the most ?limit= may ask for
	maxSubject = 200
)

// logQuery is a request for a page of the log: what the Source is asked,
// and whether the reader chose the page size (so that links keep it).
type logQuery struct {
	EventQuery
	limitGiven bool
}

// parseLogQuery reads ?repo=, ?subject=, ?before= and ?limit=; a problem
// with any of them is a 400 that says what was wrong. An unknown
// repository is not a problem: its page is empty.
func parseLogQuery(v url.Values) (logQuery, error) {
	q := logQuery{EventQuery: EventQuery{Limit: pageSize}}
	var problems []string
	get := func(name string) string {
		vs := v[name]
		if len(vs) > 1 {
			problems = append(problems, fmt.Sprintf("%s is given %d times; give it once", name, len(vs)))
			return ""
		}
		if len(vs) == 0 {
			return ""
		}
		return strings.TrimSpace(vs[0])
	}
	if s := get("repo"); s != "" {
		if validRepo(s) {
			q.Repo = s
		} else {
			problems = append(problems, fmt.Sprintf("repo must be a repository as owner/name, such as octo-org/study; got %s", quote(s)))
		}
	}
	if s := get("subject"); s != "" {
		if validSubject(s) {
			q.Subject = s
		} else {
			problems = append(problems, fmt.Sprintf("subject must be the ID of a run, job or release, of at most %d printable characters; got %s", maxSubject, quote(s)))
		}
	}
	if s := get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("before must be a sequence number of the log (a whole number from 1), as the link to older entries gives; got %s", quote(s)))
		}
		q.Before = n
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			problems = append(problems, fmt.Sprintf("limit must be a whole number from 1 to %d; got %s", maxLimit, quote(s)))
		}
		q.Limit, q.limitGiven = n, true
	}
	if len(problems) > 0 {
		return q, badRequest(problems)
	}
	return q, nil
}

func validSubject(s string) bool {
	if len(s) > maxSubject || !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// quote is a reader's value in an error message, cut short.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	return strconv.Quote(s)
}

// link is the address of the page of q's entries before seq (0 for the
// newest) under path.
func (q logQuery) link(path string, before int64, withLimit bool) string {
	v := url.Values{}
	if q.Repo != "" {
		v.Set("repo", q.Repo)
	}
	if q.Subject != "" {
		v.Set("subject", q.Subject)
	}
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if withLimit {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// logPage reads q's page of the log from the Source, trusting it no further
// than the page size and a cursor that goes back in time.
func (p *Pages) logPage(r *http.Request, q logQuery) (EventPage, error) {
	page, err := p.src.Events(r.Context(), q.EventQuery)
	if err != nil {
		return page, fmt.Errorf("read the log: %w", err)
	}
	if len(page.Events) > q.Limit {
		page.Events = page.Events[:q.Limit]
	}
	if page.Next < 0 || q.Before > 0 && page.Next >= q.Before || len(page.Events) == 0 {
		page.Next = 0
	}
	return page, nil
}

// eventsView is the log's page.
type eventsView struct {
	Repo      string
	Subject   string
	Entries   []entryView
	Newest    bool   // the first page
	OlderURL  string // "" on the last page
	NewestURL string
	AllURL    string // the whole log, without filters
	JSONURL   string // this page in the JSON API
}

// entryView is an entry as the log's page shows it.
type entryView struct {
	Event
	Link    string // its run's or release's page, or ""
	Fields  []field
	RepoURL string // the log of its repository
}

func entryOf(e Event) entryView {
	v := entryView{Event: e, Link: eventLink(e.Link), Fields: fields(e.Data)}
	if validRepo(e.Repo) {
		v.RepoURL = logQuery{EventQuery: EventQuery{Repo: e.Repo}}.link(eventsPath, 0, false)
	}
	return v
}

func (p *Pages) events(r *http.Request) (view, error) {
	q, err := parseLogQuery(r.URL.Query())
	if err != nil {
		return view{}, err
	}
	page, err := p.logPage(r, q)
	if err != nil {
		return view{}, err
	}
	v := eventsView{Repo: q.Repo, Subject: q.Subject, Newest: q.Before == 0,
		NewestURL: q.link(eventsPath, 0, q.limitGiven), AllURL: eventsPath, JSONURL: q.link(apiEventsPath, q.Before, q.limitGiven)}
	if page.Next > 0 {
		v.OlderURL = q.link(eventsPath, page.Next, q.limitGiven)
	}
	for _, e := range page.Events {
		v.Entries = append(v.Entries, entryOf(e))
	}
	title := "The log"
	switch {
	case q.Subject != "":
		title += " about " + q.Subject
	case q.Repo != "":
		title += " of " + q.Repo
	}
	return view{name: "events", title: title, nav: "events", data: v}, nil
}

// apiEvent is an entry of the log in the JSON API; the names are stable.
type apiEvent struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor"`
	Repo     string          `json:"repo"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// apiEvents is a page of the log in the JSON API: Next is the before=
// cursor of the page of older entries, "" on the last page.
type apiEvents struct {
	Events []apiEvent `json:"events"`
	Next   string     `json:"next"`
}

func (p *Pages) eventsAPI(w http.ResponseWriter, r *http.Request) (any, error) {
	q, err := parseLogQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	page, err := p.logPage(r, q)
	if err != nil {
		return nil, err
	}
	out := apiEvents{Events: make([]apiEvent, 0, len(page.Events))}
	for _, e := range page.Events {
		out.Events = append(out.Events, apiEvent{Seq: e.Seq, At: e.At.UTC(), Kind: e.Kind, Actor: e.Actor, Repo: e.Repo,
			Subject: e.Subject, Data: p.rawData(r, e), PrevHash: e.PrevHash, Hash: e.Hash})
	}
	if page.Next > 0 {
		out.Next = strconv.FormatInt(page.Next, 10)
		w.Header().Set("Link", "<"+q.link(apiEventsPath, page.Next, true)+`>; rel="next"`)
	}
	return out, nil
}

// rawData is an entry's data as the API passes it on: the JSON as it is
// in the log, {} when there is none.
func (p *Pages) rawData(r *http.Request, e Event) json.RawMessage {
	if len(strings.TrimSpace(string(e.Data))) == 0 {
		return json.RawMessage(`{}`)
	}
	if !json.Valid(e.Data) {
		p.logger(r).Warn("log entry's data is not JSON", "seq", e.Seq)
		return json.RawMessage(`null`)
	}
	return e.Data
}
