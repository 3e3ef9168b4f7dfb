package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// hostile values: markup, attribute breakers, a table breaker.
const (
	script = `<script>alert("x")</script>`
	attr   = `"'><img src=x onerror=alert(1)>`
	cell   = `</td></tr></table><h1>owned</h1>`
)

func hostile() fakeSource {
	evil := script + attr + cell
	run := RunDetail{
		Run: Run{ID: `run"<id>`, Number: 1, Repo: evil, PR: 3, HeadSHA: evil, Backend: evil, Requester: evil, Status: evil,
			CreatedAt: now.Add(-time.Hour)},
		Actions:    []string{evil, evil},
		ApprovedBy: evil,
		Plan:       []PlanStep{{Action: evil, Decision: evil, Reason: evil, JobID: evil}},
		Jobs: []Job{{ID: evil, Action: evil, State: evil, Status: evil, Message: evil, StartedAt: now.Add(-time.Minute),
			Outputs: []OutputFile{{Path: evil, Size: 1, Refused: evil}}, HighlySensitive: 1}},
		Releases: []Release{{ID: evil, Number: 2, Repo: evil, State: evil, Requester: evil, Backend: evil}},
	}
	release := ReleaseDetail{
		Release:        Release{ID: `rel"<id>`, Number: 2, Repo: evil, PR: 3, ReleasePR: 4, Requester: evil, Backend: evil, State: evil},
		Reason:         evil,
		ManifestCommit: evil,
		ReleasedCommit: evil,
		Files:          []ReleaseFile{{Path: evil, SHA256: evil, Type: evil, Findings: []Finding{{Check: evil, Message: evil}}}},
		Counted:        []string{evil},
		Ignored:        map[string]string{evil: evil},
		Runs:           []Run{run.Run},
		History:        []Event{hostileEvent(evil)},
	}
	return fakeSource{
		runs:     []Run{run.Run},
		releases: []Release{release.Release},
		events:   []Event{hostileEvent(evil)},
		run:      map[string]RunDetail{run.ID: run},
		release:  map[string]ReleaseDetail{release.ID: release},
	}
}

func hostileEvent(evil string) Event {
	data, _ := json.Marshal(map[string]any{evil: evil, "list": []string{evil}, "nested": map[string]string{"k": evil}})
	return Event{Seq: 1, At: now, Kind: evil, Actor: evil, Repo: evil, Subject: evil, Data: data, PrevHash: evil, Hash: evil,
		Link: "/runs/" + evil}
}

func TestHostileValuesAreEscaped(t *testing.T) {
	t.Parallel()
	p := newPages(hostile())
	for path, status := range map[string]int{
		"/":                                   http.StatusOK,
		"/events":                             http.StatusOK,
		"/runs/" + url.PathEscape(`run"<id>`): http.StatusOK,
		"/releases/" + url.PathEscape(`rel"<id>`): http.StatusOK,
		"/runs/" + url.PathEscape(script):         http.StatusNotFound,
		"/events?repo=" + url.QueryEscape(script): http.StatusBadRequest,
	} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			code, body := page(t, p, path)
			if code != status {
				t.Errorf("status %d, want %d", code, status)
			}
			hides(t, body, "<script", "<img", "<h1>owned", `"'>`, `run"<id>`)
			if strings.Count(body, "<table") != strings.Count(body, "</table>") {
				t.Error("a value broke out of a table")
			}
			if strings.Count(body, "<h1>") != 1 {
				t.Error("a value made a heading")
			}
			if !strings.Contains(body, "&lt;script&gt;") && !strings.Contains(body, "%3cscript%3e") && !strings.Contains(body, "&#34;\\u003cscript") {
				t.Error("the hostile value is not shown, escaped")
			}
		})
	}
}

func TestHostileValuesMakeNoLinks(t *testing.T) {
	t.Parallel()
	p := newPages(hostile())
	_, body := page(t, p, "/runs/"+url.PathEscape(`run"<id>`))
	// A repository or SHA that is not one gets no link to GitHub.
	hides(t, body, "https://github.com/")
	shows(t, body, `<span title="`) // the PR number, unlinked
}

func TestHostileValuesInTheAPIAreJSONStrings(t *testing.T) {
	t.Parallel()
	res := get(t, newPages(hostile()), "/api/v1/events")
	var body apiEvents
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Events) != 1 || !strings.HasPrefix(body.Events[0].Actor, script) {
		t.Fatalf("events %+v", body.Events)
	}
	_, raw := page(t, newPages(hostile()), "/api/v1/events")
	hides(t, raw, "<script", "<img")
}

func TestDataIsShownAsText(t *testing.T) {
	t.Parallel()
	e := logOf(1)
	e[0].Data = json.RawMessage(`{"note":"<b>bold</b> ghs_16C7e42F292c6912E7710c838347Ae178B4a","html":"<a href=\"javascript:alert(1)\">x</a>"}`)
	_, body := page(t, newPages(fakeSource{events: e}), "/events")
	shows(t, body, "<dt>note</dt><dd>&lt;b&gt;bold&lt;/b&gt; ghs_16C7e42F292c6912E7710c838347Ae178B4a</dd>",
		"&lt;a href=&#34;javascript:alert(1)&#34;&gt;x&lt;/a&gt;")
	hides(t, body, "<b>bold", `href="javascript:`)
}

// TestSourceCarriesNothingPrivate guards the contract: no type the pages
// render has a field for file contents, logs or credentials, so no
// template can show one.
func TestSourceCarriesNothingPrivate(t *testing.T) {
	t.Parallel()
	private := []string{"content", "body", "log", "token", "secret", "password", "key", "stdout", "stderr", "env"}
	for _, v := range []any{RunDetail{}, ReleaseDetail{}, Job{}, OutputFile{}, ReleaseFile{}, Finding{}, Event{}, PlanStep{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name := strings.ToLower(typ.Field(i).Name)
			for _, word := range private {
				if strings.Contains(name, word) {
					t.Errorf("%s.%s looks private (%q); the pages must not be given it", typ.Name(), typ.Field(i).Name, word)
				}
			}
		}
	}
}

func TestHighlySensitiveOutputsAreCountedNotNamed(t *testing.T) {
	t.Parallel()
	src := study()
	r := src.run["a1b2c3d4e5f6a1b2c3d4e5f6"]
	r.Jobs = []Job{{ID: "j", Action: "generate_dataset", State: "succeeded", HighlySensitive: 3}}
	src.run[r.ID] = r
	_, body := page(t, newPages(src), "/runs/"+r.ID)
	shows(t, body, `<li class="hidden-files">+ 3 highly sensitive files, not named</li>`)
	hides(t, body, "output/summary.csv") // the moderately sensitive file of the original job is gone too
}
