package app

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/gofri/go-github-ratelimit/v2/github_ratelimit/github_secondary_ratelimit"
	"github.com/google/go-github/v88/github"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fivesafes/fivesafes/internal/config"
	"github.com/fivesafes/fivesafes/internal/logging"
)

// ClientFactory makes go-github clients: one for the app itself (JWT) and
// one per installation (installation token), cached. Every client sends
// through the same chain of transports, outermost first:
//
//	retryablehttp        5xx, 429 and connection errors, idempotent methods only
//	secondary limiter    sleeps out GitHub's secondary rate limits, then re-sends
//	fresh request        a copy of the request with a rewound body for every send
//	metrics              counts every request that reaches GitHub
//	ghinstallation       JWT or installation token in Authorization
//	closeErrorBodies     error answers read and closed (see there)
//	base transport       one connection pool shared by all clients
//
// The limiter sits inside retryablehttp so that each of its sends is one
// exchange with GitHub: the limiter owns secondary limits (it knows the
// installation is paused and makes every request wait, not only the one that
// hit the limit), and retryablehttp only ever sees what the limiter gave up
// on (a pause longer than its cap). The other way round, retryablehttp would
// retry 429s on its own schedule, ignoring the pause, and would multiply the
// limiter's re-sends. The limiter re-sends the very request it was given, so
// the body rewinding must sit below it.
//
// Primary rate limits are left to go-github, which remembers them per client
// and returns *github.RateLimitError with the reset time (see RetryAfter).
type ClientFactory struct {
	appID     int64
	key       *rsa.PrivateKey
	baseURL   string // API base URL with a trailing slash
	uploadURL string
	metrics   *Metrics
	opt       clientOptions

	mu           sync.Mutex
	installation map[int64]*github.Client
	app          *github.Client
}

// ClientOption configures a ClientFactory.
type ClientOption func(*clientOptions)

type clientOptions struct {
	httpTimeout       time.Duration
	retryMax          int
	retryWaitMin      time.Duration
	retryWaitMax      time.Duration
	retryBudget       time.Duration
	secondaryWaitMax  time.Duration
	secondaryWaitsMax int32
	base              http.RoundTripper
	log               *slog.Logger
}

// WithHTTPTimeout bounds how long one send waits for GitHub's response
// headers (default 30s). It applies to the default base transport only.
func WithHTTPTimeout(d time.Duration) ClientOption {
	return func(o *clientOptions) { o.httpTimeout = d }
}

// WithRetryMax sets how many times an idempotent request is re-sent after a
// 5xx, 429 or connection error (default 4; 0 turns retries off).
func WithRetryMax(n int) ClientOption {
	return func(o *clientOptions) { o.retryMax = max(n, 0) }
}

// WithRetryWait sets the backoff between retries: exponential from min,
// with jitter, never above max (default 500ms to 10s). Whatever the waits,
// retries stop once another could take the request past a minute in all.
func WithRetryWait(min, max time.Duration) ClientOption {
	return func(o *clientOptions) { o.retryWaitMin, o.retryWaitMax = min, max }
}

// WithBaseTransport replaces the transport under the chain (tests).
func WithBaseTransport(rt http.RoundTripper) ClientOption {
	return func(o *clientOptions) { o.base = rt }
}

// WithClientLogger sets the logger for retries and rate limits, used when the
// request's context carries none.
func WithClientLogger(l *slog.Logger) ClientOption {
	return func(o *clientOptions) { o.log = l }
}

// NewClientFactory parses the app's private key (PEM, PKCS#1 or PKCS#8) and
// prepares clients for the API at apiURL ("" means https://api.github.com/).
// m may be nil.
func NewClientFactory(appID int64, privateKeyPEM []byte, apiURL string, m *Metrics, opts ...ClientOption) (*ClientFactory, error) {
	if appID <= 0 {
		return nil, fmt.Errorf("GitHub App ID %d: want a number above 0", appID)
	}
	key, err := config.ParseRSAPrivateKey(privateKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("GitHub App private key: %w", err)
	}
	base, upload, err := apiURLs(apiURL)
	if err != nil {
		return nil, err
	}
	o := clientOptions{
		httpTimeout:       30 * time.Second,
		retryMax:          4,
		retryWaitMin:      500 * time.Millisecond,
		retryWaitMax:      10 * time.Second,
		secondaryWaitMax:  time.Minute,
		secondaryWaitsMax: 3,
		retryBudget:       time.Minute,
		log:               slog.Default(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.base == nil {
		o.base = baseTransport(o.httpTimeout)
	}
	return &ClientFactory{
		appID:        appID,
		key:          key,
		baseURL:      base,
		uploadURL:    upload,
		metrics:      m,
		opt:          o,
		installation: map[int64]*github.Client{},
	}, nil
}

// AppID is the GitHub App's ID.
func (f *ClientFactory) AppID() int64 { return f.appID }

// Installation returns the client acting as installation id. Clients are
// cached; ghinstallation fetches the token on first use and renews it a
// minute before it expires.
func (f *ClientFactory) Installation(id int64) (*github.Client, error) {
	if id <= 0 {
		return nil, fmt.Errorf("installation ID %d: want a number above 0", id)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.installation[id]; ok {
		return c, nil
	}
	// Each installation gets its own AppsTransport: ghinstallation writes to
	// it while refreshing a token, so sharing one would race.
	tr := ghinstallation.NewFromAppsTransport(f.appsTransport(), id)
	c, err := f.newClient(tr)
	if err != nil {
		return nil, err
	}
	f.installation[id] = c
	return c, nil
}

// App returns the client acting as the app itself (JWT): installations,
// webhook deliveries.
func (f *ClientFactory) App() (*github.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.app != nil {
		return f.app, nil
	}
	c, err := f.newClient(f.appsTransport())
	if err != nil {
		return nil, err
	}
	f.app = c
	return c, nil
}

func (f *ClientFactory) appsTransport() *ghinstallation.AppsTransport {
	atr := ghinstallation.NewAppsTransportFromPrivateKey(closeErrorBodies{f.opt.base}, f.appID, f.key)
	atr.BaseURL = strings.TrimSuffix(f.baseURL, "/")
	return atr
}

// newClient stacks the chain described on ClientFactory over auth.
func (f *ClientFactory) newClient(auth http.RoundTripper) (*github.Client, error) {
	var tr http.RoundTripper = auth
	if f.metrics != nil {
		tr = countRequests{next: tr, requests: f.metrics.GitHubRequests}
	}
	tr = freshRequest{next: tr}
	tr = github_secondary_ratelimit.New(tr,
		github_secondary_ratelimit.WithSingleSleepLimit(f.opt.secondaryWaitMax, f.secondaryLimitTooLong),
		github_secondary_ratelimit.WithLimitDetectedCallback(f.secondaryLimitHit),
	)
	retrying := &retryablehttp.Client{
		// Redirects go back up to go-github's client, which follows them
		// only on the API's own host (sameHostRedirects).
		HTTPClient: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: f.opt.retryWaitMin,
		RetryWaitMax: f.opt.retryWaitMax,
		RetryMax:     f.opt.retryMax,
		CheckRetry:   f.checkRetry,
		Backoff:      backoff,
		ErrorHandler: lastAttempt,
	}
	httpClient := &http.Client{
		Transport:     sendScope{next: &retryablehttp.RoundTripper{Client: retrying}, factory: f},
		CheckRedirect: sameHostRedirects,
	}
	return github.NewClient(
		github.WithHTTPClient(httpClient),
		github.WithURLs(&f.baseURL, &f.uploadURL),
		github.WithUserAgent("fivesafes"),
	)
}

// apiURLs returns the REST base URL and the matching uploads URL, both with
// a trailing slash, as go-github wants them.
func apiURLs(apiURL string) (string, string, error) {
	if apiURL == "" {
		apiURL = config.DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("GitHub API URL %q: want an absolute http(s) URL", apiURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	up := *u
	switch {
	case strings.EqualFold(u.Host, "api.github.com"):
		up.Host, up.Path = "uploads.github.com", "/"
	case strings.HasSuffix(u.Path, "/api/v3/"):
		up.Path = strings.TrimSuffix(u.Path, "/api/v3/") + "/api/uploads/"
	}
	return u.String(), up.String(), nil
}

// baseTransport is http.DefaultTransport with bounded waits and more idle
// connections per host (all traffic goes to one host).
func baseTransport(headerTimeout time.Duration) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = headerTimeout
	t.MaxIdleConnsPerHost = 16
	return t
}

// sameHostRedirects follows redirects only on the host the request went to:
// the token is added below the redirect logic, so following a redirect to
// another host would hand it the installation token.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
		return http.ErrUseLastResponse
	}
	return nil
}

// sendScope marks the start of one logical request: retryablehttp's policy
// needs its method and start time, and the limiter's per-request cap counts
// its pauses. Both travel in the context, the one thing every layer passes on.
type sendScope struct {
	next    http.RoundTripper
	factory *ClientFactory
}

type sendKey struct{}

type send struct {
	method     string
	start      time.Time
	retries    atomic.Int32
	limitWaits atomic.Int32
}

func (t sendScope) RoundTrip(req *http.Request) (*http.Response, error) {
	s := &send{method: req.Method, start: time.Now()}
	ctx := context.WithValue(req.Context(), sendKey{}, s)
	ctx = github_secondary_ratelimit.WithOverrideConfig(ctx, t.factory.limitWaitsCap(s))
	return t.next.RoundTrip(req.WithContext(ctx))
}

// limitWaitsCap stops the limiter from pausing one request more than
// secondaryWaitsMax times: it re-sends without end while GitHub keeps
// answering with a secondary limit. The limiter applies this option each time
// it decides on a new pause for the request.
func (f *ClientFactory) limitWaitsCap(s *send) github_secondary_ratelimit.Option {
	return func(c *github_secondary_ratelimit.Config) {
		if s.limitWaits.Add(1) > f.opt.secondaryWaitsMax {
			github_secondary_ratelimit.WithSingleSleepLimit(0, f.secondaryLimitTooLong)(c)
		}
	}
}

func (f *ClientFactory) logger(ctx context.Context) *slog.Logger {
	if l := logging.From(ctx); l != slog.Default() {
		return l
	}
	return f.opt.log
}

func (f *ClientFactory) secondaryLimitHit(c *github_secondary_ratelimit.CallbackContext) {
	f.logger(c.Request.Context()).Warn("GitHub secondary rate limit; pausing this installation's requests",
		"method", c.Request.Method, "path", c.Request.URL.Path, "until", c.ResetTime.Format(time.RFC3339))
}

func (f *ClientFactory) secondaryLimitTooLong(c *github_secondary_ratelimit.CallbackContext) {
	f.logger(c.Request.Context()).Warn("GitHub secondary rate limit; giving up instead of waiting",
		"method", c.Request.Method, "path", c.Request.URL.Path, "until", c.ResetTime.Format(time.RFC3339))
}

// idempotent methods may be re-sent after an error: sending them twice does
// what sending them once does. POST and PATCH are never re-sent here, so a
// create cannot be duplicated; the dispatcher retries the whole handler,
// which looks before it creates.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// checkRetry is retryablehttp's policy: which answers are worth another send.
func (f *ClientFactory) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	s, _ := ctx.Value(sendKey{}).(*send)
	if s == nil || !idempotent(s.method) {
		return false, nil
	}
	var why []any
	switch {
	case err != nil:
		if !transient(err) {
			return false, nil
		}
		why = []any{"err", err}
	case retryableStatus(resp.StatusCode):
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			return false, nil // a primary limit lasts up to an hour; go-github reports it
		}
		if d, ok := retryAfterHeader(resp.Header); ok && d > f.opt.retryWaitMax {
			return false, nil // the caller sees the status and RetryAfter tells it how long
		}
		why = []any{"status", resp.StatusCode}
	default:
		return false, nil
	}
	if time.Since(s.start)+f.opt.retryWaitMax > f.opt.retryBudget {
		return false, nil // the next wait could take this request past its budget
	}
	n := s.retries.Add(1)
	if int(n) <= f.opt.retryMax {
		f.logger(ctx).Warn("GitHub request failed; retrying", append(why, "method", s.method, "retry", n)...)
	}
	return true, nil
}

// backoff waits what Retry-After asks (checkRetry refused anything longer
// than max), else exponentially from min with jitter, up to max.
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfterHeader(resp.Header); ok {
			return d
		}
	}
	d := min << attempt
	if d <= 0 || d > max {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

// lastAttempt hands back what the last send got once retries run out: the
// response itself, so that the caller sees GitHub's status and message.
func lastAttempt(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// retryAfterHeader reads Retry-After, in seconds or as an HTTP date.
func retryAfterHeader(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// freshRequest sends a copy of each request with a body read from the start.
// The limiter above re-sends the same *http.Request after a pause, and
// HTTP/2 re-sends use GetBody: without this a re-sent POST would go out
// empty. The copy also keeps the auth layer's header edits off the caller's
// request.
type freshRequest struct{ next http.RoundTripper }

func (t freshRequest) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return t.next.RoundTrip(out)
	}
	if req.GetBody == nil {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("buffer request body: %w", err)
		}
		// Kept on the caller's request: the limiter re-sends this very one.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		out.GetBody = req.GetBody
		out.ContentLength = int64(len(data))
	} else {
		req.Body.Close()
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("rewind request body: %w", err)
	}
	out.Body = body
	return t.next.RoundTrip(out)
}

// closeErrorBodies reads the body of every error answer into memory and
// closes the original: ghinstallation puts a failed token fetch's response
// into its error without ever closing it, which would hold the connection.
type closeErrorBodies struct{ next http.RoundTripper }

func (t closeErrorBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // what arrived is all there is to show
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// countRequests counts every exchange with GitHub by method and status
// ("error" when there was no response).
type countRequests struct {
	next     http.RoundTripper
	requests *prometheus.CounterVec
}

func (t countRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	t.requests.WithLabelValues(req.Method, status).Inc()
	return resp, err
}
