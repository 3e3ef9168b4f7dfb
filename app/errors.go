package app

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v88/github"
)

// Retryable reports whether the same work may succeed if tried again later:
// GitHub was down or busy (5xx, 429), a rate limit is in force, the network
// failed, or the work ran out of time. GitHub's refusals (401, 403, 404, 422,
// ...) are not.
//
// A 202 from go-github is an *github.AcceptedError: GitHub took the request
// and finishes it in the background. Callers treat it as success, before
// asking Retryable; for Retryable it is not an error to retry.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var (
		accepted *github.AcceptedError
		primary  *github.RateLimitError
		abuse    *github.AbuseRateLimitError
		answer   *github.ErrorResponse
		token    *ghinstallation.HTTPError
	)
	switch {
	case errors.As(err, &accepted):
		return false
	case errors.As(err, &primary), errors.As(err, &abuse):
		return true
	case errors.As(err, &answer):
		return answer.Response != nil && retryableStatus(answer.Response.StatusCode)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Interrupted, not refused. (The dispatcher tells its own shutdown
		// apart by its context.)
		return true
	}
	if errors.As(err, &token) && token.Response != nil {
		return retryableStatus(token.Response.StatusCode)
	}
	return transient(err)
}

// RetryAfter is how long GitHub asked to be left alone, for the dispatcher's
// backoff: until a primary rate limit resets, a secondary limit's
// Retry-After (a minute when GitHub gave none, as its documentation says),
// or a 5xx/429's Retry-After. Zero means no advice.
func RetryAfter(err error) time.Duration {
	var (
		primary *github.RateLimitError
		abuse   *github.AbuseRateLimitError
		answer  *github.ErrorResponse
		token   *ghinstallation.HTTPError
	)
	switch {
	case errors.As(err, &primary):
		return max(time.Until(primary.Rate.Reset.Time), 0)
	case errors.As(err, &abuse):
		if abuse.RetryAfter != nil {
			return max(*abuse.RetryAfter, 0)
		}
		return time.Minute
	case errors.As(err, &answer) && answer.Response != nil:
		return headerRetryAfter(answer.Response.Header)
	case errors.As(err, &token) && token.Response != nil:
		return headerRetryAfter(token.Response.Header)
	}
	return 0
}

func headerRetryAfter(h http.Header) time.Duration {
	if d, ok := retryAfterHeader(h); ok {
		return d
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Until(time.Unix(reset, 0)), 0)
		}
	}
	return 0
}

// retryableStatus: GitHub is failing or busy. 501 Not Implemented never
// gets better.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented)
}

// transient reports network failures that a later attempt may not meet:
// refused or reset connections, timeouts, a connection closed mid-answer,
// and a failed token fetch for the same reasons. Certificate errors and
// malformed URLs are not transient.
func transient(err error) bool {
	var token *ghinstallation.HTTPError
	if errors.As(err, &token) && token.Response != nil {
		return retryableStatus(token.Response.StatusCode)
	}
	var cert *tls.CertificateVerificationError
	if errors.As(err, &cert) {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The transport's own errors: the server closed the connection
		// before answering, or HTTP/2 reset the stream. None of them has an
		// exported type.
		if errors.Is(ue.Err, io.EOF) {
			return true
		}
		msg := ue.Err.Error()
		for _, s := range []string{"server closed idle connection", "http2: ", "stream error", "connection reset", "broken pipe"} {
			if strings.Contains(msg, s) {
				return true
			}
		}
	}
	// Any net.Error below the *url.Error wrappers: dial and DNS failures,
	// timeouts. A *url.Error is itself a net.Error, so look inside it.
	var ne net.Error
	for e := err; errors.As(e, &ne); {
		u, ok := ne.(*url.Error)
		if !ok {
			return true
		}
		e = u.Err
	}
	return false
}
