package ghemu

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/fivesafes/fivesafes/internal/ghemu/openapi"
)

// trimmedSpec is GitHub's REST description cut down to the operations the
// emulator implements; `go generate` rewrites it (see cmd/trimspec).
//
//go:embed openapi/github-trimmed.json.gz
var trimmedSpec []byte

// The description is parsed once per process: every emulator shares it.
var spec struct {
	once   sync.Once
	routes []*route
	err    error
	took   time.Duration
}

// route is one operation: where it is, what it needs, who serves it.
type route struct {
	method   string
	template string
	segments []string
	greedy   string // a last path parameter that may hold slashes
	auth     authKind
	handle   handler
	rules    func(body []byte) string
	kin      *routers.Route
}

func loadRoutes() ([]*route, error) {
	spec.once.Do(func() {
		start := time.Now()
		spec.routes, spec.err = buildRoutes(trimmedSpec)
		spec.took = time.Since(start)
	})
	return spec.routes, spec.err
}

// specLoadTime is how long parsing the embedded description took.
func specLoadTime() time.Duration {
	_, _ = loadRoutes()
	return spec.took
}

func parseSpec(gz []byte) (*openapi3.T, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("embedded OpenAPI description: %w", err)
	}
	var doc openapi3.T
	if err := json.NewDecoder(zr).Decode(&doc); err != nil {
		return nil, fmt.Errorf("embedded OpenAPI description: %w", err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(&doc, nil); err != nil {
		return nil, fmt.Errorf("embedded OpenAPI description: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	return &doc, nil
}

func buildRoutes(gz []byte) ([]*route, error) {
	doc, err := parseSpec(gz)
	if err != nil {
		return nil, err
	}
	table := handlers()
	var out []*route
	for _, op := range openapi.Operations {
		h, ok := table[op]
		if !ok {
			return nil, fmt.Errorf("operation %q is listed in openapi.Operations but has no handler", op)
		}
		delete(table, op)
		method, path, _ := strings.Cut(op, " ")
		item := doc.Paths.Value(path)
		var operation *openapi3.Operation
		if item != nil {
			operation = item.GetOperation(method)
		}
		if operation == nil {
			return nil, fmt.Errorf("operation %q is not in the embedded description: run go generate in internal/ghemu", op)
		}
		rt := &route{
			method: method, template: path, segments: strings.Split(strings.TrimPrefix(path, "/"), "/"),
			auth: h.auth, handle: h.handle, rules: h.rules,
			kin: &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: operation},
		}
		for _, p := range operation.Parameters {
			if p.Value != nil && p.Value.In == "path" && p.Value.Extensions["x-multi-segment"] == true {
				rt.greedy = p.Value.Name
			}
		}
		out = append(out, rt)
	}
	for op := range table {
		return nil, fmt.Errorf("handler for %q, which is not listed in openapi.Operations", op)
	}
	return out, nil
}

// match returns the path parameters if path fits the route's template. A
// last parameter that may hold slashes may also be left out, as GitHub
// allows (".../contents" is the root, ".../tarball" the default branch).
// path is escaped as sent: it is split at its slashes before parameters
// are unescaped, so that an escaped one ("labels/area%2Fethics") stays in
// its parameter, as on GitHub.
func (rt *route) match(path string) (map[string]string, bool) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	params := map[string]string{}
	if rt.greedy != "" && len(segs) == len(rt.segments)-1 {
		segs = append(segs, "")
	}
	for i, tmpl := range rt.segments {
		name, isParam := strings.CutPrefix(tmpl, "{")
		name = strings.TrimSuffix(name, "}")
		if isParam && name == rt.greedy && i == len(rt.segments)-1 && i < len(segs) {
			v, err := url.PathUnescape(strings.Join(segs[i:], "/"))
			if err != nil {
				return nil, false
			}
			params[name] = v
			return params, true
		}
		if i >= len(segs) {
			return nil, false
		}
		switch {
		case isParam && segs[i] != "":
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, false
			}
			params[name] = v
		case tmpl != segs[i]:
			return nil, false
		}
	}
	return params, len(segs) == len(rt.segments)
}

// findRoute picks the route for a request; among templates that fit the
// path, the one with the most literal segments wins. pathKnown reports
// whether some route fits the path with another method.
func (e *Emulator) findRoute(method, path string) (best *route, params map[string]string, pathKnown bool) {
	bestLiterals := -1
	for _, rt := range e.routes {
		p, ok := rt.match(path)
		if !ok {
			continue
		}
		if rt.method != method {
			pathKnown = true
			continue
		}
		literals := 0
		for _, s := range rt.segments {
			if !strings.HasPrefix(s, "{") {
				literals++
			}
		}
		if literals > bestLiterals {
			best, params, bestLiterals = rt, p, literals
		}
	}
	return best, params, pathKnown
}

var validationOptions = openapi3filter.Options{
	AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
	SkipSettingDefaults:     true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
}

// validateRequest checks a request against the description. body has been
// read already; r.Body is not touched.
func validateRequest(ctx context.Context, rt *route, r *http.Request, body []byte, params map[string]string) error {
	if string(bytes.TrimSpace(body)) == "null" {
		body = nil // go-github sends null for "no options"; GitHub reads it as no body
	}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json") // GitHub reads an unlabelled body as JSON
	}
	if rt.greedy != "" && params[rt.greedy] == "" {
		// The description requires {path}, but GitHub lists the root
		// directory for an empty one (GET /repos/o/r/contents/).
		params = maps.Clone(params)
		params[rt.greedy] = "/"
	}
	opts := validationOptions
	return openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: rt.kin, Options: &opts,
	})
}

// validateResponse checks one of the emulator's own answers, so that it
// cannot drift from what GitHub answers.
func validateResponse(ctx context.Context, rt *route, r *http.Request, params map[string]string, status int, header http.Header, body []byte) error {
	opts := validationOptions
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: rt.kin, Options: &opts},
		Status:                 status,
		Header:                 header,
		Options:                &opts,
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(ctx, in)
}
