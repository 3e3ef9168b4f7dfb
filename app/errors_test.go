package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/checks"
)

func githubAnswer(status int, header ...string) *github.ErrorResponse {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/o/r", nil)
	return &github.ErrorResponse{Response: &http.Response{StatusCode: status, Header: h, Request: req}, Message: http.StatusText(status)}
}

func urlError(err error) error {
	return &url.Error{Op: "Get", URL: "https://api.github.com/repos/o/r", Err: err}
}

func TestClassifyRetryable(t *testing.T) {
	thirty := 30 * time.Second
	cases := map[string]struct {
		err  error
		want bool
	}{
		"no error":                           {nil, false},
		"202 accepted is success":            {&github.AcceptedError{}, false},
		"500":                                {githubAnswer(500), true},
		"502, wrapped":                       {fmt.Errorf("create check run: %w", githubAnswer(502)), true},
		"503":                                {githubAnswer(503), true},
		"429":                                {githubAnswer(429), true},
		"501 never gets better":              {githubAnswer(501), false},
		"401":                                {githubAnswer(401), false},
		"403 forbidden":                      {githubAnswer(403), false},
		"404":                                {githubAnswer(404), false},
		"404 as checks.ErrNotFound":          {fmt.Errorf("read: %w (%w)", checks.ErrNotFound, githubAnswer(404)), false},
		"422":                                {githubAnswer(422), false},
		"primary rate limit":                 {&github.RateLimitError{Message: "API rate limit exceeded"}, true},
		"secondary rate limit":               {&github.AbuseRateLimitError{RetryAfter: &thirty}, true},
		"connection refused":                 {urlError(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		"connection reset":                   {urlError(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), true},
		"closed before the answer (EOF)":     {urlError(fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", io.EOF)), true},
		"cut short mid-body":                 {fmt.Errorf("decode: %w", io.ErrUnexpectedEOF), true},
		"DNS timeout":                        {urlError(&net.DNSError{Err: "i/o timeout", Name: "api.github.com", IsTimeout: true}), true},
		"idle connection closed by server":   {urlError(errors.New("http: server closed idle connection")), true},
		"HTTP/2 stream reset":                {urlError(errors.New("http2: server sent GOAWAY and closed the connection")), true},
		"out of time":                        {fmt.Errorf("list check runs: %w", context.DeadlineExceeded), true},
		"certificate not trusted":            {urlError(&tls.CertificateVerificationError{Err: errors.New("x509: unknown authority")}), false},
		"unsupported scheme":                 {urlError(errors.New("unsupported protocol scheme \"ftp\"")), false},
		"token mint got 502":                 {fmt.Errorf("could not refresh: %w", &ghinstallation.HTTPError{Response: &http.Response{StatusCode: 502}}), true},
		"token mint got 401 (a revoked key)": {urlError(&ghinstallation.HTTPError{Response: &http.Response{StatusCode: 401}}), false},
		"token mint could not connect":       {urlError(&ghinstallation.HTTPError{RootCause: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}), true},
		"a plain error":                      {errors.New("project.yaml: not a mapping"), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Retryable(tc.err); got != tc.want {
				t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestClassifyRetryAfter(t *testing.T) {
	thirty := 30 * time.Second
	inTen := time.Now().Add(10 * time.Minute)
	cases := map[string]struct {
		err  error
		want time.Duration
	}{
		"primary limit: until the reset":                {&github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: inTen}}}, 10 * time.Minute},
		"primary limit already over":                    {&github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: time.Now().Add(-time.Minute)}}}, 0},
		"secondary limit with Retry-After":              {fmt.Errorf("x: %w", &github.AbuseRateLimitError{RetryAfter: &thirty}), 30 * time.Second},
		"secondary limit without: GitHub says a minute": {&github.AbuseRateLimitError{}, time.Minute},
		"503 with Retry-After":                          {githubAnswer(503, "Retry-After", "7"), 7 * time.Second},
		"429 with a rate-limit reset":                   {githubAnswer(429, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", fmt.Sprint(inTen.Unix())), 10 * time.Minute},
		"502 without advice":                            {githubAnswer(502), 0},
		"network error":                                 {urlError(io.EOF), 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := RetryAfter(tc.err)
			if got < tc.want-2*time.Second || got > tc.want {
				t.Errorf("RetryAfter(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
