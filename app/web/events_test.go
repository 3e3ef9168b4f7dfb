package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var seqRow = regexp.MustCompile(`<tr id="seq-(\d+)">`)

// seqs are the entries a page of the log shows, in order.
func seqs(body string) []int64 {
	var out []int64
	for _, m := range seqRow.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

// span is seq from down to to.
func span(from, to int64) []int64 {
	var out []int64
	for s := from; s >= to; s-- {
		out = append(out, s)
	}
	return out
}

func TestEventsPages(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		log       int
		path      string
		want      []int64
		older     string // the Older link, or "" for none
		newest    bool   // whether there is a Newest link
		sentences []string
	}{
		"empty log":                {log: 0, path: "/events", sentences: []string{"No entries yet."}},
		"exactly one page":         {log: 50, path: "/events", want: span(50, 1)},
		"one more":                 {log: 51, path: "/events", want: span(51, 2), older: "/events?before=2"},
		"the last page":            {log: 51, path: "/events?before=2", want: []int64{1}, newest: true},
		"cursor at the end":        {log: 51, path: "/events?before=1", newest: true, sentences: []string{"No older entries."}},
		"before beyond the newest": {log: 3, path: "/events?before=1000", want: span(3, 1), newest: true},
		"a page size":              {log: 5, path: "/events?limit=2", want: []int64{5, 4}, older: "/events?before=4&amp;limit=2"},
		"a page size, older":       {log: 5, path: "/events?limit=2&before=4", want: []int64{3, 2}, older: "/events?before=2&amp;limit=2", newest: true},
		"a repository":             {log: 5, path: "/events?repo=octo-org/study", want: []int64{5, 3, 1}},
		"a repository, paged": {log: 7, path: "/events?repo=octo-org/study&limit=2", want: []int64{7, 5},
			older: "/events?before=5&amp;limit=2&amp;repo=octo-org%2Fstudy"},
		"an unknown repository": {log: 5, path: "/events?repo=octo-org/nothing", sentences: []string{"No entries match."}},
		"a subject":             {log: 5, path: "/events?subject=job-4", want: []int64{4}, sentences: []string{"Entries about <code class=\"id\">job-4</code>"}},
		"blank filters":         {log: 2, path: "/events?repo=&subject=&before=&limit=", want: []int64{2, 1}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			code, body := page(t, newPages(fakeSource{events: logOf(tc.log)}), tc.path)
			if code != http.StatusOK {
				t.Fatalf("GET %s = %d", tc.path, code)
			}
			if got := seqs(body); !slices.Equal(got, tc.want) {
				t.Errorf("entries %v, want %v", got, tc.want)
			}
			hasOlder := strings.Contains(body, `rel="next">Older</a>`)
			if tc.older == "" && hasOlder {
				t.Error("an Older link on the last page")
			}
			if tc.older != "" {
				shows(t, body, `<a href="`+tc.older+`" rel="next">Older</a>`)
			}
			if got := strings.Contains(body, ">Newest</a>"); got != tc.newest {
				t.Errorf("Newest link: %v, want %v", got, tc.newest)
			}
			shows(t, body, tc.sentences...)
		})
	}
}

func TestEventsPageShowsAnEntry(t *testing.T) {
	t.Parallel()
	e := Event{Seq: 9, At: now.Add(-5 * 60e9), Kind: "run.requested", Actor: "ana", Repo: "octo-org/study",
		Subject: "a1b2c3d4e5f6a1b2c3d4e5f6", Link: "/runs/a1b2c3d4e5f6a1b2c3d4e5f6",
		Data:     json.RawMessage(`{"number":7,"actions":["generate_dataset","model"],"force":false,"plan":{"model":"run"}}`),
		PrevHash: strings.Repeat("1", 64), Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
	_, body := page(t, newPages(fakeSource{events: []Event{e}}), "/events")
	shows(t, body,
		"<title>The log · fivesafes</title>",
		`<td class="num">9</td>`,
		`<time datetime="2026-12-03T09:55:00.000Z">2026-12-03 09:55 UTC</time> <span class="ago">(5 minutes ago)</span>`,
		"<td>run requested</td>",
		"<td>ana</td>",
		`<a href="/events?repo=octo-org%2Fstudy" title="Entries about octo-org/study">octo-org/study</a>`,
		`<a href="/runs/a1b2c3d4e5f6a1b2c3d4e5f6"><code class="id">a1b2c3d4e5f6a1b2c3d4e5f6</code></a>`,
		"<dt>number</dt><dd>7</dd>",
		"<dt>actions</dt><dd>generate_dataset, model</dd>",
		"<dt>force</dt><dd>false</dd>",
		"<dt>plan</dt><dd>{&#34;model&#34;:&#34;run&#34;}</dd>",
		`<code class="hash" title="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08">9f86d081884c</code>`,
		`<a href="/api/v1/events">this page as JSON</a>`,
		`<form class="filter" method="get" action="/events" role="search">`,
	)
}

func TestEventsPageFilters(t *testing.T) {
	t.Parallel()
	_, body := page(t, newPages(fakeSource{events: logOf(3)}), "/events?repo=octo-org/study&subject=job-3")
	shows(t, body,
		"<title>The log about job-3 · fivesafes</title>",
		`<input id="repo" name="repo" value="octo-org/study"`,
		`<input type="hidden" name="subject" value="job-3">`,
		`<a href="/events">Show the whole log</a>`,
		`<a href="/api/v1/events?repo=octo-org%2Fstudy&amp;subject=job-3">this page as JSON</a>`,
	)
	_, body = page(t, newPages(fakeSource{events: logOf(3)}), "/events?repo=octo-org/study")
	shows(t, body, "<title>The log of octo-org/study · fivesafes</title>")
}

func TestEventLinksOnlyToRunsAndReleases(t *testing.T) {
	t.Parallel()
	for link, want := range map[string]bool{
		"/runs/abc":               true,
		"/releases/abc":           true,
		"/runs/":                  false,
		"/runs/a/b":               false,
		"/webhook":                false,
		"https://evil.example/x":  false,
		"//evil.example/runs/abc": false,
		"javascript:alert(1)":     false,
	} {
		e := logOf(1)
		e[0].Link = link
		_, body := page(t, newPages(fakeSource{events: e}), "/events")
		if got := strings.Contains(body, `<a href="`+link+`"><code class="id">`); got != want {
			t.Errorf("Link %q linked: %v, want %v", link, got, want)
		}
	}
}

// badQueries are query strings the log refuses, with a word the answer
// must say.
var badQueries = map[string]string{
	"before=abc":                             "before must be",
	"before=0":                               "before must be",
	"before=-5":                              "before must be",
	"before=1.5":                             "before must be",
	"before=99999999999999999999":            "before must be",
	"limit=0":                                "limit must be a whole number from 1 to 200",
	"limit=201":                              "limit must be a whole number from 1 to 200",
	"limit=ten":                              "limit must be",
	"limit=-1":                               "limit must be",
	"repo=nope":                              "repo must be a repository as owner/name",
	"repo=a/b/c":                             "repo must be",
	"repo=../etc":                            "repo must be",
	"repo=octo-org/.":                        "repo must be",
	"repo=%3Cscript%3Ealert(1)%3C/script%3E": "repo must be",
	"subject=" + strings.Repeat("x", 201):    "subject must be",
	"subject=a%00b":                          "subject must be",
	"repo=a/b&repo=c/d":                      "repo is given 2 times",
	"before=2&before=3":                      "before is given 2 times",
}

func TestEventsPageRefusesBadQueries(t *testing.T) {
	t.Parallel()
	p := newPages(untouchable{t})
	for query, want := range badQueries {
		code, body := page(t, p, "/events?"+query)
		if code != http.StatusBadRequest {
			t.Errorf("GET /events?%s = %d, want 400", query, code)
			continue
		}
		shows(t, body, "<title>Bad request · fivesafes</title>", want)
		hides(t, body, "<script>alert")
	}
	code, body := page(t, p, "/events?before=x&limit=0&repo=y")
	if code != http.StatusBadRequest {
		t.Fatalf("three bad parameters = %d", code)
	}
	shows(t, body, "<li>repo must be", "<li>before must be", "<li>limit must be")
}

func TestEventsAPIRefusesBadQueries(t *testing.T) {
	t.Parallel()
	p := newPages(untouchable{t})
	for query, want := range badQueries {
		res := get(t, p, "/api/v1/events?"+query)
		var e map[string]string
		if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
			t.Errorf("GET /api/v1/events?%s: %v", query, err)
			continue
		}
		if res.StatusCode != http.StatusBadRequest || len(e) != 1 || !strings.Contains(e["error"], want) {
			t.Errorf("GET /api/v1/events?%s = %d %v, want 400 with an error saying %q", query, res.StatusCode, e, want)
		}
	}
}

func TestEventsAPIShape(t *testing.T) {
	t.Parallel()
	log := logOf(3)
	log[2].Data = json.RawMessage(`{"files":[{"path":"output/a.csv","sha256":"ab"}],"note":"<b>&"}`)
	log[1].Data = nil
	res := get(t, newPages(fakeSource{events: log}), "/api/v1/events?limit=2")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	var got struct {
		Events []map[string]json.RawMessage `json:"events"`
		Next   string                       `json:"next"`
	}
	dec := json.NewDecoder(res.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Next != "2" || len(got.Events) != 2 {
		t.Fatalf("next %q and %d events, want 2 and 2", got.Next, len(got.Events))
	}
	want := map[string]string{
		"seq":       `3`,
		"at":        `"2026-12-03T09:59:00Z"`,
		"kind":      `"job.state"`,
		"actor":     `"tpp"`,
		"repo":      `"octo-org/study"`,
		"subject":   `"job-3"`,
		"data":      `{"files":[{"path":"output/a.csv","sha256":"ab"}],"note":"\u003cb\u003e\u0026"}`,
		"prev_hash": strconv.Quote(log[2].PrevHash),
		"hash":      strconv.Quote(log[2].Hash),
	}
	first := map[string]string{}
	for k, v := range got.Events[0] {
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			t.Fatal(err)
		}
		first[k] = b.String()
	}
	if len(first) != len(want) {
		t.Errorf("fields %v, want %v", first, want)
	}
	for k, w := range want {
		if first[k] != w {
			t.Errorf("%s = %s, want %s", k, first[k], w)
		}
	}
	if d := string(got.Events[1]["data"]); d != "{}" {
		t.Errorf("data of an entry without data = %s, want {}", d)
	}
	if link := res.Header.Get("Link"); link != `</api/v1/events?before=2&limit=2>; rel="next"` {
		t.Errorf("Link = %q", link)
	}
}

func TestEventsAPIEmptyLog(t *testing.T) {
	t.Parallel()
	res := get(t, newPages(fakeSource{}), "/api/v1/events")
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if events, ok := body["events"].([]any); !ok || len(events) != 0 || body["next"] != "" {
		t.Errorf("empty log = %v, want no events, as [], and next \"\"", body)
	}
	if link := res.Header.Get("Link"); link != "" {
		t.Errorf("Link %q on the last page", link)
	}
}

// TestEventsAPICursorWalksTheLog follows the Link headers from the newest
// page to the oldest: every entry once, newest first.
func TestEventsAPICursorWalksTheLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		log   int
		query string
		want  []int64
		pages int
	}{
		{log: 7, query: "limit=3", want: span(7, 1), pages: 3},
		{log: 6, query: "limit=3", want: span(6, 1), pages: 2},
		{log: 9, query: "limit=2&repo=octo-org/study", want: []int64{9, 7, 5, 3, 1}, pages: 3},
		{log: 250, query: "limit=200", want: span(250, 1), pages: 2},
		{log: 120, query: "", want: span(120, 1), pages: 3},
	} {
		p := newPages(fakeSource{events: logOf(tc.log)})
		next, pages := "/api/v1/events?"+tc.query, 0
		var all []int64
		for next != "" {
			if pages++; pages > 10 {
				t.Fatalf("%s: more than 10 pages", tc.query)
			}
			res := get(t, p, next)
			var body apiEvents
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			for _, e := range body.Events {
				all = append(all, e.Seq)
			}
			link := res.Header.Get("Link")
			next = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
			if (link == "") != (body.Next == "") {
				t.Errorf("Link %q but next %q", link, body.Next)
			}
			if link != "" {
				u, _ := url.Parse(next)
				if u.Query().Get("before") != body.Next {
					t.Errorf("Link %q is not the cursor %q", link, body.Next)
				}
			}
		}
		if !slices.Equal(all, tc.want) || pages != tc.pages {
			t.Errorf("%d entries, %s: %d pages of %v, want %d of %v", tc.log, tc.query, pages, all, tc.pages, tc.want)
		}
	}
}

// loopingSource is a source whose cursor does not go back in time.
type loopingSource struct{ fakeSource }

func (l loopingSource) Events(ctx context.Context, q EventQuery) (EventPage, error) {
	page, err := l.fakeSource.Events(ctx, q)
	page.Next = q.Before
	return page, err
}

func TestEventsIgnoresACursorThatDoesNotGoBack(t *testing.T) {
	t.Parallel()
	src := loopingSource{fakeSource{events: logOf(3)}}
	res := get(t, newPages(src), "/api/v1/events?before=3&limit=1")
	var body apiEvents
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Next != "" || res.Header.Get("Link") != "" {
		t.Errorf("next %q, Link %q: a cursor that loops", body.Next, res.Header.Get("Link"))
	}
}
