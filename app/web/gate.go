package web

import (
	"net/http"
)

// Gate decides who may see the pages. Every page and the JSON API ask it
// before they read anything; only the stylesheet does not.
//
// The default, Everyone, keeps the pages and the log public, as
// OpenSAFELY's jobs log is. An operator who wants the pages for signed-in
// GitHub users of configured organisations would:
//
//   - mount a sign-in handler and an OAuth callback beside the pages
//     (e.g. /auth/github and /auth/github/callback) that send the reader to
//     GitHub's authorize URL, exchange the code, look up the user's
//     organisations (GET /user/orgs, or GET /orgs/ORG/members/USER), and
//     set a signed, HttpOnly, SameSite=Lax session cookie naming the user
//     and when the membership was checked;
//   - pass WithGate a Gate whose Allow verifies that cookie and the
//     membership (re-checked after a while, so that a removed member loses
//     access), returning false for anyone else, and whose SignInURL
//     (SignInGate) points at the sign-in handler with the page to come back
//     to;
//   - to keep the log public while restricting the rest, let Allow return
//     true when r.Pattern is "GET /events" or "GET /api/v1/events" (the
//     ServeMux sets r.Pattern to the route that matched).
//
// A refused page is a 403 page, or a 303 redirect to SignInURL when the
// Gate is a SignInGate that returns one; the JSON API always answers 403
// with a JSON error. An error from Allow is a 500 page, logged.
type Gate interface {
	Allow(r *http.Request) (ok bool, err error)
}

// SignInGate is a Gate that can send a refused reader of a page to sign in.
type SignInGate interface {
	Gate
	// SignInURL is where a refused reader of r is sent; "" for the 403
	// page.
	SignInURL(r *http.Request) string
}

// GateFunc is a Gate made of a function.
type GateFunc func(r *http.Request) (bool, error)

// Allow calls f.
func (f GateFunc) Allow(r *http.Request) (bool, error) { return f(r) }

// Everyone is the default Gate: the pages are public.
var Everyone Gate = GateFunc(func(*http.Request) (bool, error) { return true, nil })

// gated asks the Gate before h serves r; api says whether refusals are
// JSON.
func (p *Pages) gated(h http.Handler, api bool) http.Handler {
	return secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, err := p.gate.Allow(r)
		switch {
		case err != nil:
			p.logger(r).Error("page gate failed", "err", err)
			if api {
				p.writeJSONError(w, r, http.StatusInternalServerError, "something went wrong; it has been logged")
			} else {
				p.writeError(w, r, errInternal)
			}
		case ok:
			h.ServeHTTP(w, r)
		case api:
			p.writeJSONError(w, r, http.StatusForbidden, "you are not allowed to read this log; sign in on the pages first")
		default:
			if sg, is := p.gate.(SignInGate); is {
				if u := sg.SignInURL(r); u != "" {
					w.Header().Set("Cache-Control", "no-store")
					http.Redirect(w, r, u, http.StatusSeeOther)
					return
				}
			}
			p.writeError(w, r, errForbidden)
		}
	}))
}
