package ghemu

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// fault is a planned misbehaviour for the next matching requests.
type fault struct {
	method, path string // path is a template ("/repos/{owner}/{repo}/check-runs") or a concrete path
	remaining    int
	status       int
	afterEffect  bool
	body         []byte
	header       http.Header
	delay        time.Duration
}

// FaultOption refines a fault planned with Fail.
type FaultOption func(*fault)

// AfterApplying makes the request take effect before the fault replaces
// its answer: an ambiguous failure, where e.g. the check run exists but
// the client saw a 502.
func AfterApplying() FaultOption { return func(f *fault) { f.afterEffect = true } }

// FaultBody sets the body of the faulty answer. By default a 5xx answer is
// empty and any other has GitHub's error JSON.
func FaultBody(body string) FaultOption { return func(f *fault) { f.body = []byte(body) } }

// FaultHeader adds a header to the faulty answer.
func FaultHeader(key, value string) FaultOption {
	return func(f *fault) { f.header.Add(key, value) }
}

// SecondaryRateLimit makes the answer GitHub's secondary rate limit: the
// body go-github and go-github-ratelimit recognise, and Retry-After. Use it
// with status 403 (or 429).
func SecondaryRateLimit(retryAfter time.Duration) FaultOption {
	return func(f *fault) {
		f.body, _ = json.Marshal(obj{
			"message":           "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		})
		f.header.Set("Retry-After", strconv.Itoa(int(retryAfter.Round(time.Second)/time.Second)))
	}
}

// Fail answers the next n requests matching method and path with status.
// path is an operation's template as GitHub's description spells it
// ("/repos/{owner}/{repo}/check-runs") or a concrete path; method "" is any.
// Faults apply in the order planned; a request consumes at most one.
func (e *Emulator) Fail(method, path string, n, status int, opts ...FaultOption) {
	f := &fault{method: method, path: path, remaining: n, status: status, header: http.Header{}}
	for _, o := range opts {
		o(f)
	}
	if f.body == nil && status < 500 {
		f.body, _ = json.Marshal(errorReply(status, http.StatusText(status)).body)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.faults = append(e.st.faults, f)
}

// Slow delays the answer to the next n requests matching method and path
// (see Fail) by d, or until the client gives up.
func (e *Emulator) Slow(method, path string, n int, d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.faults = append(e.st.faults, &fault{method: method, path: path, remaining: n, delay: d})
}

// Requests counts the requests received for method and path (an
// operation's template, or a concrete path that matched no operation),
// including refused and faulty ones.
func (e *Emulator) Requests(method, path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st.requests[method+" "+path]
}

func (e *Emulator) count(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.requests[key]++
	e.changedLocked()
}

// takeFault consumes the first planned delay and the first planned failure
// that match the request, combined into one fault, or returns nil.
func (e *Emulator) takeFault(rt *route, r *http.Request) *fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out *fault
	var delayed, failed bool
	for _, f := range e.st.faults {
		if f.remaining <= 0 || (f.method != "" && f.method != r.Method) || (f.path != rt.template && f.path != r.URL.Path) {
			continue
		}
		isDelay := f.status == 0
		if (isDelay && delayed) || (!isDelay && failed) {
			continue
		}
		f.remaining--
		if out == nil {
			out = &fault{}
		}
		if isDelay {
			delayed, out.delay = true, f.delay
		} else {
			failed = true
			out.status, out.afterEffect, out.body, out.header = f.status, f.afterEffect, f.body, f.header
		}
	}
	return out
}

func (e *Emulator) writeFault(w http.ResponseWriter, f *fault) {
	h := f.header.Clone()
	if len(f.body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	writeHeader(w, f.status, h)
	_, _ = w.Write(f.body)
}

// sleepCtx waits d unless ctx ends first; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
