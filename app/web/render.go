package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// view is what a page handler shows: a template and its data.
type view struct {
	name  string // the template: home, events, run, release
	title string
	nav   string // the current item of the navigation: home, events
	data  any
}

// pageFunc answers a page's request with a view, or an error: a
// *pageError to show, or anything else for a logged 500 page.
type pageFunc func(r *http.Request) (view, error)

// apiFunc answers an API request with a value to encode as JSON; it may set
// headers on w.
type apiFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// pageError is an answer other than 200, with what the reader is told.
type pageError struct {
	status   int
	title    string
	message  string
	problems []string // what was wrong with the request, for 400
}

func (e *pageError) Error() string {
	if len(e.problems) > 0 {
		return strings.Join(e.problems, "; ")
	}
	return e.message
}

var (
	errInternal = &pageError{status: http.StatusInternalServerError, title: "Something went wrong",
		message: "Something went wrong on our side while making this page. It has been logged; please try again in a moment."}
	errForbidden = &pageError{status: http.StatusForbidden, title: "Not allowed",
		message: "These pages are only for signed-in members of the organisations this service is run for."}
)

func notFound(message string) *pageError {
	return &pageError{status: http.StatusNotFound, title: "Not found", message: message}
}

func badRequest(problems []string) *pageError {
	return &pageError{status: http.StatusBadRequest, title: "Bad request",
		message: "This address asks for something the page cannot show:", problems: problems}
}

// page serves a pageFunc.
func (p *Pages) page(f pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			p.writeError(w, r, p.shown(r, err))
			return
		}
		p.render(w, r, http.StatusOK, v)
	})
}

// shown is the pageError that err is shown as; anything but a pageError
// is logged and shown as a 500 page that does not say what it was.
func (p *Pages) shown(r *http.Request, err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	p.logger(r).Error("page failed", "err", err)
	return errInternal
}

func (p *Pages) notFound(r *http.Request) (view, error) {
	return view{}, notFound("There is no page at this address.")
}

func (p *Pages) writeError(w http.ResponseWriter, r *http.Request, e *pageError) {
	p.render(w, r, e.status, view{name: "error", title: e.title, data: e})
}

// errorView is what the error page shows.
type errorView struct {
	Title    string
	Message  string
	Problems []string
}

// layout is the data of every page: the frame and the page's own view.
type layout struct {
	Title    string
	Nav      string
	StyleURL string
	IconURL  string
	V        any
}

// render writes v as a whole page; a page is rendered before anything is
// written, so that a failure is a clean 500.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	if e, ok := v.data.(*pageError); ok {
		v.data = errorView{Title: e.title, Message: e.message, Problems: e.problems}
	}
	var b bytes.Buffer
	err := p.pages[v.name].ExecuteTemplate(&b, "layout", layout{Title: v.title, Nav: v.nav, StyleURL: p.style.url, IconURL: p.icon.url, V: v.data})
	if err != nil {
		p.logger(r).Error("page did not render", "template", v.name, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("Something went wrong on our side while making this page. It has been logged.\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// parsePages parses each page's template with the layout.
func parsePages(funcs template.FuncMap) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"home", "events", "run", "release", "error"} {
		out[name] = template.Must(template.New(name).Funcs(funcs).
			ParseFS(assets, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}

// api serves an apiFunc.
func (p *Pages) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(w, r)
		if err != nil {
			e := p.shown(r, err)
			msg := e.Error()
			if e == errInternal {
				msg = "something went wrong; it has been logged"
			}
			p.writeJSONError(w, r, e.status, msg)
			return
		}
		p.writeJSON(w, r, http.StatusOK, v)
	})
}

func (p *Pages) apiNotFound(w http.ResponseWriter, r *http.Request) (any, error) {
	return nil, notFound("no such API endpoint; the log is at " + apiEventsPath)
}

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func (p *Pages) writeJSONError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p.writeJSON(w, r, status, apiError{Error: msg})
}

func (p *Pages) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		p.logger(r).Error("API answer did not encode", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error": "something went wrong; it has been logged"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
