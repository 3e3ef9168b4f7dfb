package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// ErrStaleAttempt is the bot's 409: another attempt of the task holds it now.
var ErrStaleAttempt = errors.New("the bot no longer holds this attempt of the task (409)")

// errPermanent marks an answer that retrying cannot change (4xx, bad JSON).
var errPermanent = errors.New("permanent")

// Client talks to the bot's agent API. Network errors, 5xx and 429 are
// retried with backoff until ctx ends; every other failure is returned.
type Client struct {
	base    string // bot URL + APIPrefix, no trailing slash
	token   string
	http    *http.Client
	backoff time.Duration // first retry delay; doubles up to maxBackoff
}

const (
	maxAnswerBytes = 1 << 20
	maxBackoff     = 30 * time.Second
)

// NewClient returns a client for the bot at botURL (http or https).
func NewClient(botURL, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(botURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bot_url %q is not an http(s) URL", botURL)
	}
	if token == "" {
		return nil, errors.New("the agent has no token (set token_file or " + EnvToken + ")")
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{
		base:    strings.TrimRight(botURL, "/") + APIPrefix,
		token:   token,
		http:    hc,
		backoff: 500 * time.Millisecond,
	}, nil
}

// Claim long-polls for a task; it returns nil, nil when there is none.
func (c *Client) Claim(ctx context.Context, wait time.Duration) (*Task, error) {
	var t Task
	status, err := c.call(ctx, http.MethodPost, "/tasks/claim?wait="+url.QueryEscape(wait.String()), nil, &t, wait+30*time.Second)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent {
		return nil, nil
	}
	if t.ID == "" {
		return nil, fmt.Errorf("claim: the bot sent a task without an ID: %w", errPermanent)
	}
	return &t, nil
}

// Update reports progress of a task and says whether to cancel it.
func (c *Client) Update(ctx context.Context, taskID string, u Update) (UpdateAnswer, error) {
	body, err := json.Marshal(u)
	if err != nil {
		return UpdateAnswer{}, err
	}
	var a UpdateAnswer
	_, err = c.call(ctx, http.MethodPost, "/tasks/"+url.PathEscape(taskID)+"/update", body, &a, time.Minute)
	return a, err
}

// DownloadCode writes the task's code tarball to path, at most max bytes.
func (c *Client) DownloadCode(ctx context.Context, taskID, path string, max int64) error {
	return c.retry(ctx, "download code", func() (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		resp, err := c.do(ctx, http.MethodGet, "/tasks/"+url.PathEscape(taskID)+"/code", nil)
		if err != nil {
			return true, err
		}
		defer resp.Body.Close()
		if retry, err := checkStatus(resp); err != nil {
			return retry, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return false, err
		}
		n, err := io.Copy(f, io.LimitReader(resp.Body, max+1))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return true, fmt.Errorf("download code: %w", err)
		}
		if n > max {
			return false, fmt.Errorf("the code tarball is larger than %d bytes: %w", max, errPermanent)
		}
		return false, nil
	})
}

// uploadTime is how long one try of an upload may take: the bot allows a
// 16 MB file 15 minutes to arrive.
const uploadTime = 15 * time.Minute

// Upload sends one file of a release: PUT {APIPrefix}/releases/{id}/files/{path}
// (protocol.UploadPath) with size bytes that body yields, streamed. body is
// called for each try, since a body cannot be sent twice; an error from it,
// or one wrapping errPermanent from the body's Read, ends the upload as it
// is. Network errors, 5xx and 429 are retried with backoff until ctx ends;
// any other answer but 200 is final and carries the bot's message.
func (c *Client) Upload(ctx context.Context, releaseID, path string, size int64, body func() (io.ReadCloser, error)) error {
	return c.retry(ctx, "upload "+path, func() (bool, error) {
		rc, err := body()
		if err != nil {
			return false, err
		}
		b := &uploadBody{rc: rc}
		defer b.Close()
		ctx, cancel := context.WithTimeout(ctx, uploadTime)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+protocol.UploadPath(releaseID, path), b)
		if err != nil {
			return false, err
		}
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := c.http.Do(req)
		if berr := b.failure(); berr != nil && errors.Is(berr, errPermanent) {
			if resp != nil {
				resp.Body.Close()
			}
			return false, berr // the body refused to go on: the bot has not got the file
		}
		if err != nil {
			return true, err
		}
		defer resp.Body.Close()
		switch s := resp.StatusCode; {
		case s == http.StatusOK:
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
			return false, nil
		case s == http.StatusTooManyRequests || s >= 500:
			return true, fmt.Errorf("the bot answered %s", resp.Status)
		default:
			return false, fmt.Errorf("the bot answered %s: %s", resp.Status, botMessage(resp.Body))
		}
	})
}

// uploadBody is an upload's body that remembers why a Read failed (the
// transport may not say) and may be closed twice.
type uploadBody struct {
	rc   io.ReadCloser
	mu   sync.Mutex
	err  error
	once sync.Once
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *uploadBody) Close() error {
	var err error
	b.once.Do(func() { err = b.rc.Close() })
	return err
}

func (b *uploadBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// botMessage is the message of an error answer: its JSON "error", or its
// text, cut short.
func botMessage(body io.Reader) string {
	data, _ := io.ReadAll(io.LimitReader(body, 512))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(data))
}

// call sends one JSON request with retries and decodes a 200 answer into out.
func (c *Client) call(ctx context.Context, method, path string, body []byte, out any, timeout time.Duration) (int, error) {
	var status int
	err := c.retry(ctx, method+" "+path, func() (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		resp, err := c.do(ctx, method, path, body)
		if err != nil {
			return true, err
		}
		defer resp.Body.Close()
		status = resp.StatusCode
		if retry, err := checkStatus(resp); err != nil {
			return retry, err
		}
		if resp.StatusCode == http.StatusNoContent {
			return false, nil
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
		if err != nil {
			return true, err
		}
		if len(data) > maxAnswerBytes {
			return false, fmt.Errorf("%s: answer larger than %d bytes: %w", path, maxAnswerBytes, errPermanent)
		}
		if err := json.Unmarshal(data, out); err != nil {
			return false, fmt.Errorf("%s: the bot's answer is not the expected JSON (%v): %w", path, err, errPermanent)
		}
		return false, nil
	})
	return status, err
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.http.Do(req)
}

// checkStatus sorts an answer: success, retryable, stale or permanent.
func checkStatus(resp *http.Response) (retry bool, err error) {
	switch s := resp.StatusCode; {
	case s == http.StatusOK || s == http.StatusNoContent:
		return false, nil
	case s == http.StatusConflict:
		return false, ErrStaleAttempt
	case s == http.StatusTooManyRequests || s >= 500:
		return true, fmt.Errorf("the bot answered %s", resp.Status)
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return false, fmt.Errorf("the bot answered %s: %s: %w", resp.Status, strings.TrimSpace(string(msg)), errPermanent)
	}
}

// retry runs attempt until it succeeds, fails for good or ctx ends, waiting
// with exponential backoff and jitter between tries.
func (c *Client) retry(ctx context.Context, what string, attempt func() (retry bool, err error)) error {
	delay := c.backoff
	for {
		retry, err := attempt()
		if err == nil || !retry {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logging.From(ctx).Warn("bot call failed; retrying", "call", what, "err", err, "in", delay)
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, maxBackoff)
	}
}
