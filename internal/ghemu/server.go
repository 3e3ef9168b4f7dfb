package ghemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// handler serves one operation. It runs with Emulator.mu held and must not
// block; a handler that changes state calls changedLocked.
type handler func(e *Emulator, c *call) reply

// call is one REST request as a handler sees it.
type call struct {
	r      *http.Request
	params map[string]string
	body   []byte
	inst   *Installation // set for installation-token routes
}

func (c *call) param(name string) string { return c.params[name] }
func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// reply is a handler's answer.
type reply struct {
	status      int
	body        any    // marshalled to JSON, unless contentType is set
	raw         []byte // sent as is when contentType is set
	contentType string
	header      http.Header
	// rule is set when the request broke one of GitHub's documented rules
	// that the description cannot express; it is reported as a spec failure.
	rule error
	// events are the webhooks the request caused. They are delivered
	// before the answer is written, so that a client that got its answer
	// finds them in Deliveries (GitHub sends them a moment later).
	events []outgoing
}

func jsonReply(status int, body any) reply { return reply{status: status, body: body} }

// errorReply is GitHub's error body: {"message", "documentation_url", "status"}.
func errorReply(status int, message string) reply {
	return jsonReply(status, obj{
		"message": message, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status),
	})
}

func notFound() reply { return errorReply(http.StatusNotFound, "Not Found") }

// validationFailed is GitHub's 422 "Validation Failed" with one error.
func validationFailed(resource, field, code, message string) reply {
	er := obj{"resource": resource, "code": code}
	if field != "" {
		er["field"] = field
	}
	if message != "" {
		er["message"] = message
	}
	return jsonReply(http.StatusUnprocessableEntity, obj{
		"message": "Validation Failed", "errors": []obj{er},
		"documentation_url": "https://docs.github.com/rest", "status": "422",
	})
}

// unsupported answers a request GitHub would serve but the emulator does
// not model, and reports it like a spec failure, so that a test cannot
// pass by accident.
func (c *call) unsupported(what string) reply {
	rep := errorReply(http.StatusUnprocessableEntity, "ghemu does not support "+what)
	rep.rule = fmt.Errorf("%s %s: the emulator does not support %s (extend internal/ghemu)", c.r.Method, c.r.URL.Path, what)
	return rep
}

// ruleBroken answers 422 like GitHub and reports the broken rule.
func ruleBroken(method, path, format string, args ...any) reply {
	msg := fmt.Sprintf(format, args...)
	rep := errorReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+msg)
	rep.rule = fmt.Errorf("%s %s: GitHub would reject this request (422): %s", method, path, msg)
	return rep
}

func (c *call) ruleBroken(format string, args ...any) reply {
	return ruleBroken(c.r.Method, c.r.URL.Path, format, args...)
}

// maxRequestBody caps a REST request body; the bot never sends one near it.
const maxRequestBody = 25 << 20

// ServeHTTP answers a REST request as GitHub would: route it by GitHub's
// description, validate it, apply planned faults, authorize, serve, and
// validate the answer.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, rawPrefix) {
		e.serveRawDownload(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, codeloadPrefix) {
		e.serveCodeload(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxRequestBody {
		e.write(w, errorReply(http.StatusRequestEntityTooLarge, "Request body too large"))
		return
	}
	rt, params, pathKnown := e.findRoute(r.Method, r.URL.EscapedPath())
	if rt == nil {
		e.count(r.Method + " " + r.URL.Path)
		why := "no operation of GitHub's REST description has this path"
		if pathKnown {
			why = "GitHub's REST description has no such method for this path"
		}
		e.specFailure(fmt.Errorf("%s %s: %s (or the emulator does not implement it yet: see internal/ghemu/openapi/operations.go)", r.Method, r.URL.Path, why))
		e.write(w, notFound())
		return
	}
	e.count(rt.method + " " + rt.template)
	log := e.log.With("method", r.Method, "path", r.URL.Path)

	if err := validateRequest(r.Context(), rt, r, body, params); err != nil {
		if rt.rules != nil {
			if why := rt.rules(body); why != "" {
				err = fmt.Errorf("%w (in GitHub's words: %s)", err, why)
			}
		}
		e.specFailure(fmt.Errorf("%s %s: request does not match GitHub's description: %w", r.Method, r.URL.Path, err))
		e.write(w, invalidRequest(body, err))
		return
	}

	f := e.takeFault(rt, r)
	if f != nil && f.delay > 0 {
		if !sleepCtx(r.Context(), f.delay) {
			return
		}
	}
	if f != nil && f.status != 0 && !f.afterEffect {
		log.Info("fault injected", "status", f.status)
		e.writeFault(w, f)
		return
	}

	rep := e.serveLocked(rt, &call{r: r, params: params, body: body})
	if rep.rule != nil {
		e.specFailure(rep.rule)
	}
	e.deliverAll(rep.events)
	if f != nil && f.status != 0 {
		log.Info("fault injected after the request took effect", "status", f.status)
		e.writeFault(w, f)
		return
	}
	out, header := e.encode(rep)
	if rep.contentType == "" { // raw media types are not in the description
		if err := validateResponse(r.Context(), rt, r, params, rep.status, header, out); err != nil {
			e.specFailure(fmt.Errorf("emulator bug: its answer to %s %s does not match GitHub's description: %w", r.Method, r.URL.Path, err))
		}
	}
	log.Debug("answered", "status", rep.status)
	writeHeader(w, rep.status, header)
	_, _ = w.Write(out)
}

// serveLocked authorizes and runs the handler under the lock.
func (e *Emulator) serveLocked(rt *route, c *call) reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	if rep, ok := e.authorizeLocked(rt, c); !ok {
		return rep
	}
	return rt.handle(e, c)
}

// invalidRequest is GitHub's answer to a request its description rejects:
// 400 for a body that is not JSON, 404 for a bad path parameter, else 422.
func invalidRequest(body []byte, err error) reply {
	if len(body) > 0 && !json.Valid(body) {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) && re.Parameter != nil && re.Parameter.In == "path" {
		return notFound()
	}
	return errorReply(http.StatusUnprocessableEntity, "Invalid request.\n\n"+err.Error())
}

func (e *Emulator) encode(rep reply) ([]byte, http.Header) {
	h := http.Header{}
	for k, v := range rep.header {
		h[k] = v
	}
	if rep.contentType != "" {
		h.Set("Content-Type", rep.contentType)
		return rep.raw, h
	}
	if rep.body == nil { // 204, 302: no body at all
		return nil, h
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep.body); err != nil {
		panic(fmt.Sprintf("ghemu: marshal response: %v", err))
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return buf.Bytes(), h
}

func (e *Emulator) write(w http.ResponseWriter, rep reply) {
	out, h := e.encode(rep)
	writeHeader(w, rep.status, h)
	_, _ = w.Write(out)
}

func writeHeader(w http.ResponseWriter, status int, h http.Header) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	w.WriteHeader(status)
}
