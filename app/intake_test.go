package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/store"
)

// intakeRig is the webhook endpoint on a real HTTP server, storing into a
// real inbox on a temporary SQLite file.
type intakeRig struct {
	url     string
	db      *store.DB
	inbox   *inbox.Inbox
	metrics *Metrics
	logs    *syncBuffer
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startIntake(t testing.TB, secrets ...string) *intakeRig {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "intake.db"))
	if err != nil {
		t.Fatal(err)
	}
	in := inbox.New(db)
	rig := &intakeRig{db: db, inbox: in, metrics: NewMetrics(nil), logs: &syncBuffer{}}
	rig.url = serveIntake(t, in, rig.metrics, rig.logs, secrets...)
	t.Cleanup(func() {
		in.Close()
		db.Close()
	})
	return rig
}

// serveIntake serves NewIntake the way the server does: with a logger in
// the request context.
func serveIntake(t testing.TB, p Putter, m *Metrics, logs io.Writer, secrets ...string) string {
	t.Helper()
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = []byte(s)
	}
	h := NewIntake(func() [][]byte { return keys }, p, m)
	log := slog.New(slog.NewTextHandler(logs, nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(logging.With(r.Context(), log)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhook"
}

func webhookExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signWebhook(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhookPost is one request as GitHub would send it; empty headers are left out.
type webhookPost struct {
	event, guid, signature string
	body                   io.Reader
	length                 int64 // -1: unknown, sent chunked
}

func signedPost(secret, event, guid string, body []byte) webhookPost {
	return webhookPost{event: event, guid: guid, signature: signWebhook(secret, body), body: bytes.NewReader(body), length: int64(len(body))}
}

func (p webhookPost) send(t testing.TB, url string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, p.body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = p.length
	req.Header.Set("Content-Type", "application/json")
	for k, v := range map[string]string{"X-GitHub-Event": p.event, "X-GitHub-Delivery": p.guid, "X-Hub-Signature-256": p.signature} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func (r *intakeRig) rows(t testing.TB) int {
	t.Helper()
	var n int
	if err := r.db.R.QueryRow("SELECT count(*) FROM deliveries").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

const intakeGUID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

func TestIntakeStoresADeliveryAndAnswers202(t *testing.T) {
	rig := startIntake(t, "s3cret")
	body := webhookExample(t, "pull_request.synchronize.json")
	status, _, answer := signedPost("s3cret", "pull_request", intakeGUID, body).send(t, rig.url)
	if status != http.StatusAccepted || strings.TrimSpace(answer) != `{"status":"queued"}` {
		t.Fatalf("answer %d %s, want 202 queued", status, answer)
	}
	d, state, err := rig.inbox.Get(context.Background(), intakeGUID)
	if err != nil {
		t.Fatal(err)
	}
	if state != inbox.StatusPending || d.Event != "pull_request" || d.Action != "synchronize" ||
		d.InstallationID != 1 || d.Repo != "Codertocat/Hello-World" || d.OrderKey != "Codertocat/Hello-World#2" ||
		!bytes.Equal(d.Payload, body) || d.ReceivedAt.IsZero() {
		t.Errorf("stored %s %+v", state, d)
	}
	if n := counterValue(t, rig.metrics.DeliveriesReceived); n != 1 {
		t.Errorf("received counter %v, want 1", n)
	}
	if logs := rig.logs.String(); !strings.Contains(logs, "delivery="+intakeGUID) {
		t.Errorf("no log line names the delivery:\n%s", logs)
	}
}

func TestIntakeAnswers200ForADuplicateAndStoresItOnce(t *testing.T) {
	rig := startIntake(t, "s3cret")
	body := webhookExample(t, "issue_comment.created.json")
	if status, _, _ := signedPost("s3cret", "issue_comment", intakeGUID, body).send(t, rig.url); status != http.StatusAccepted {
		t.Fatalf("first delivery: %d", status)
	}
	status, _, answer := signedPost("s3cret", "issue_comment", intakeGUID, body).send(t, rig.url)
	if status != http.StatusOK || !strings.Contains(answer, "duplicate") {
		t.Fatalf("redelivery: %d %s, want 200 duplicate", status, answer)
	}
	if n := rig.rows(t); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
	if n := counterValue(t, rig.metrics.DeliveriesDuplicate); n != 1 {
		t.Errorf("duplicate counter %v, want 1", n)
	}
}

func TestIntakeRefusesBadSignatures(t *testing.T) {
	rig := startIntake(t, "s3cret")
	body := webhookExample(t, "push.push.json")
	good := signWebhook("s3cret", body)
	cases := map[string]string{
		"missing":                     "",
		"signed with another secret":  signWebhook("guess", body),
		"sha1 instead of sha256":      "sha1=" + strings.TrimPrefix(good, "sha256="),
		"not hex":                     "sha256=" + strings.Repeat("zz", 32),
		"truncated":                   good[:len(good)-2],
		"signature of another body":   signWebhook("s3cret", append([]byte(" "), body...)),
		"upper-case prefix":           "SHA256=" + strings.TrimPrefix(good, "sha256="),
		"right signature, extra text": good + "00",
	}
	for name, sig := range cases {
		t.Run(name, func(t *testing.T) {
			p := signedPost("s3cret", "push", intakeGUID, body)
			p.signature = sig
			if status, _, _ := p.send(t, rig.url); status != http.StatusUnauthorized {
				t.Errorf("answer %d, want 401", status)
			}
		})
	}
	if n := rig.rows(t); n != 0 {
		t.Errorf("%d rows stored from badly signed deliveries", n)
	}
	if n := counterValue(t, rig.metrics.DeliveriesRejected.WithLabelValues("signature")); n != float64(len(cases)) {
		t.Errorf("signature rejections counted %v, want %d", n, len(cases))
	}
}

func TestIntakeRefusesEverythingWithoutASecret(t *testing.T) {
	rig := startIntake(t) // misconfigured: no secret at all
	body := webhookExample(t, "push.push.json")
	if status, _, _ := signedPost("", "push", intakeGUID, body).send(t, rig.url); status != http.StatusUnauthorized {
		t.Errorf("answer %d, want 401", status)
	}
}

func TestIntakeAcceptsEverySecretDuringARotation(t *testing.T) {
	rig := startIntake(t, "old-secret", "new-secret")
	body := webhookExample(t, "check_suite.requested.json")
	for i, secret := range []string{"old-secret", "new-secret"} {
		guid := intakeGUID[:len(intakeGUID)-1] + string(rune('0'+i))
		if status, _, _ := signedPost(secret, "check_suite", guid, body).send(t, rig.url); status != http.StatusAccepted {
			t.Errorf("signed with %s: answer %d, want 202", secret, status)
		}
	}
	if n := rig.rows(t); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

func TestIntakeRefusesMalformedDeliveries(t *testing.T) {
	rig := startIntake(t, "s3cret")
	body := webhookExample(t, "pull_request.opened.json")
	cases := map[string]webhookPost{
		"no event header":     signedPost("s3cret", "", intakeGUID, body),
		"odd event name":      signedPost("s3cret", "pull request", intakeGUID, body),
		"no delivery header":  signedPost("s3cret", "pull_request", "", body),
		"GUID with a slash":   signedPost("s3cret", "pull_request", "../../etc", body),
		"GUID too long":       signedPost("s3cret", "pull_request", strings.Repeat("a", 101), body),
		"truncated JSON":      signedPost("s3cret", "pull_request", intakeGUID, body[:len(body)/2]),
		"a JSON array":        signedPost("s3cret", "pull_request", intakeGUID, []byte(`[{"action":"opened"}]`)),
		"JSON null":           signedPost("s3cret", "pull_request", intakeGUID, []byte(`null`)),
		"form-encoded":        signedPost("s3cret", "pull_request", intakeGUID, []byte(`payload=%7B%7D`)),
		"empty body":          signedPost("s3cret", "pull_request", intakeGUID, nil),
		"installation as str": signedPost("s3cret", "pull_request", intakeGUID, []byte(`{"installation":{"id":"1"}}`)),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			if status, _, _ := p.send(t, rig.url); status != http.StatusBadRequest {
				t.Errorf("answer %d, want 400", status)
			}
		})
	}
	if n := rig.rows(t); n != 0 {
		t.Errorf("%d rows stored from malformed deliveries", n)
	}
	// The longest acceptable GUID is fine.
	long := strings.Repeat("a", 100)
	if status, _, _ := signedPost("s3cret", "pull_request", long, body).send(t, rig.url); status != http.StatusAccepted {
		t.Errorf("100-character GUID: answer %d, want 202", status)
	}
}

func TestIntakeAcceptsOnlyPOST(t *testing.T) {
	rig := startIntake(t, "s3cret")
	resp, err := http.Get(rig.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// endlessObject streams a JSON object of n bytes without holding it in memory.
type endlessObject struct {
	left  int64
	began bool
}

var blanks = bytes.Repeat([]byte(" "), 64<<10)

func (e *endlessObject) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), e.left)], blanks)
	if !e.began {
		p[0], e.began = '{', true
	}
	e.left -= int64(n)
	return n, nil
}

func TestIntakeRefusesPayloadsOver25MiB(t *testing.T) {
	rig := startIntake(t, "s3cret")
	for name, length := range map[string]int64{"declared length": MaxWebhookBody + 1, "chunked": -1} {
		t.Run(name, func(t *testing.T) {
			p := webhookPost{
				event: "push", guid: intakeGUID,
				signature: "sha256=" + strings.Repeat("0", 64), // never checked: the size is
				body:      &endlessObject{left: MaxWebhookBody + 1},
				length:    length,
			}
			if status, _, _ := p.send(t, rig.url); status != http.StatusRequestEntityTooLarge {
				t.Errorf("answer %d, want 413", status)
			}
		})
	}
	if n := rig.rows(t); n != 0 {
		t.Errorf("%d rows stored", n)
	}
	if n := counterValue(t, rig.metrics.DeliveriesRejected.WithLabelValues("too_large")); n != 2 {
		t.Errorf("too_large rejections counted %v, want 2", n)
	}
}

// failingPutter is an inbox whose database is gone.
type failingPutter struct{}

func (failingPutter) Put(context.Context, inbox.Delivery) (bool, error) {
	return false, errors.New("disk I/O error")
}

func TestIntakeAnswers503WhenTheDeliveryCannotBeStored(t *testing.T) {
	m := NewMetrics(nil)
	logs := &syncBuffer{}
	url := serveIntake(t, failingPutter{}, m, logs, "s3cret")
	body := webhookExample(t, "check_run.created.json")
	status, header, _ := signedPost("s3cret", "check_run", intakeGUID, body).send(t, url)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
		t.Errorf("answer %d, Retry-After %q; want 503 with Retry-After", status, header.Get("Retry-After"))
	}
	if n := counterValue(t, m.DeliveriesReceived); n != 0 {
		t.Errorf("received counter %v, want 0", n)
	}
	if n := counterValue(t, m.DeliveriesRejected.WithLabelValues("store")); n != 1 {
		t.Errorf("store rejections counted %v, want 1", n)
	}
	if !strings.Contains(logs.String(), "disk I/O error") {
		t.Errorf("the store error is not logged:\n%s", logs.String())
	}
}

func TestIntakeAnswers503WhenTheInboxIsClosed(t *testing.T) {
	rig := startIntake(t, "s3cret")
	rig.inbox.Close()
	body := webhookExample(t, "check_run.created.json")
	if status, _, _ := signedPost("s3cret", "check_run", intakeGUID, body).send(t, rig.url); status != http.StatusServiceUnavailable {
		t.Errorf("answer %d, want 503", status)
	}
}
