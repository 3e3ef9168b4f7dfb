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
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
)

// Putter stores a delivery durably; *inbox.Inbox is one. Put returns only
// once the delivery is committed (duplicate false) or found already stored
// (duplicate true).
type Putter interface {
	Put(ctx context.Context, d inbox.Delivery) (duplicate bool, err error)
}

// MaxWebhookBody is the largest payload GitHub sends (25 MiB); intake refuses
// anything bigger.
const MaxWebhookBody = 25 << 20

// Intake answers POST /webhook: it checks that a delivery comes from GitHub,
// stores it and acknowledges it. Nothing is handled inside the request.
type Intake struct {
	secrets  func() [][]byte
	inbox    Putter
	now      func() time.Time
	maxBody  int64
	received prometheus.Counter
	dups     prometheus.Counter
	rejected *prometheus.CounterVec
}

// IntakeOption configures NewIntake.
type IntakeOption func(*Intake)

// WithIntakeClock sets the clock that stamps receipt times.
func WithIntakeClock(now func() time.Time) IntakeOption {
	return func(h *Intake) { h.now = now }
}

// NewIntake returns the webhook handler. secrets returns the webhook secrets
// in force (several during a rotation); a delivery signed with any of them is
// accepted. m may be nil.
func NewIntake(secrets func() [][]byte, inbox Putter, m *Metrics, opts ...IntakeOption) http.Handler {
	if m == nil {
		m = NewMetrics(nil)
	}
	h := &Intake{
		secrets:  secrets,
		inbox:    inbox,
		now:      time.Now,
		maxBody:  MaxWebhookBody,
		received: m.DeliveriesReceived,
		dups:     m.DeliveriesDuplicate,
		rejected: m.DeliveriesRejected,
	}
	for _, opt := range opts {
		opt(h)
	}
	return h
}

// Answers, prepared once.
var (
	intakeQueued    = []byte(`{"status":"queued"}` + "\n")
	intakeDuplicate = []byte(`{"status":"duplicate"}` + "\n")
)

// Reasons a delivery is rejected, as the rejected counter labels them.
const (
	rejectMethod    = "method"
	rejectSignature = "signature"
	rejectMalformed = "malformed"
	rejectTooLarge  = "too_large"
	rejectStore     = "store"
)

// storeRetryAfter is the Retry-After sent when a delivery could not be stored.
const storeRetryAfter = "5"

func (h *Intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(ctx, w, http.StatusMethodNotAllowed, rejectMethod, "only POST is accepted", nil)
		return
	}
	if r.ContentLength > h.maxBody {
		h.reject(ctx, w, http.StatusRequestEntityTooLarge, rejectTooLarge, "payload over 25 MiB", nil)
		return
	}
	body, err := readWebhookBody(w, r, h.maxBody)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.reject(ctx, w, http.StatusRequestEntityTooLarge, rejectTooLarge, "payload over 25 MiB", nil)
			return
		}
		h.reject(ctx, w, http.StatusBadRequest, rejectMalformed, "could not read the payload", err)
		return
	}

	// Nothing about the request is believed before its signature is.
	if !webhookSignatureMatches(r.Header.Get("X-Hub-Signature-256"), body, h.secrets()) {
		h.reject(ctx, w, http.StatusUnauthorized, rejectSignature, "X-Hub-Signature-256 is missing or does not match", nil)
		return
	}
	event, guid := r.Header.Get("X-GitHub-Event"), r.Header.Get("X-GitHub-Delivery")
	if !validEventName(event) {
		h.reject(ctx, w, http.StatusBadRequest, rejectMalformed, "X-GitHub-Event is missing or malformed", nil)
		return
	}
	if !validDeliveryGUID(guid) {
		h.reject(ctx, w, http.StatusBadRequest, rejectMalformed, "X-GitHub-Delivery is missing or malformed", nil)
		return
	}
	f, err := ParseWebhookFields(body)
	if err != nil {
		ctx = logging.Attrs(ctx, logging.KeyDelivery, guid, logging.KeyEvent, event)
		h.reject(ctx, w, http.StatusBadRequest, rejectMalformed, "the payload is not a valid JSON object", err)
		return
	}

	d := inbox.Delivery{
		GUID:           guid,
		Event:          event,
		Action:         f.Action,
		InstallationID: f.InstallationID,
		Repo:           f.Repo,
		OrderKey:       OrderKey(event, f),
		Payload:        body,
		ReceivedAt:     h.now(),
	}
	dup, err := h.inbox.Put(ctx, d)
	log := logging.From(ctx)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "webhook not stored", slog.String(logging.KeyDelivery, guid),
			slog.String(logging.KeyEvent, event), slog.String(logging.KeyRepo, d.Repo), slog.Any("err", err))
		h.rejected.WithLabelValues(rejectStore).Inc()
		w.Header().Set("Retry-After", storeRetryAfter)
		writeIntakeError(w, http.StatusServiceUnavailable, "the delivery could not be stored; send it again later")
		return
	}
	if dup {
		h.dups.Inc()
		if log.Enabled(ctx, slog.LevelInfo) {
			log.LogAttrs(ctx, slog.LevelInfo, "webhook already stored", slog.String(logging.KeyDelivery, guid),
				slog.String(logging.KeyEvent, event), slog.String(logging.KeyRepo, d.Repo))
		}
		writeIntakeJSON(w, http.StatusOK, intakeDuplicate)
		return
	}
	h.received.Inc()
	if log.Enabled(ctx, slog.LevelInfo) {
		log.LogAttrs(ctx, slog.LevelInfo, "webhook stored", slog.String(logging.KeyDelivery, guid),
			slog.String(logging.KeyEvent, event), slog.String("action", d.Action),
			slog.String(logging.KeyRepo, d.Repo), slog.String("order_key", d.OrderKey))
	}
	writeIntakeJSON(w, http.StatusAccepted, intakeQueued)
}

func (h *Intake) reject(ctx context.Context, w http.ResponseWriter, status int, reason, msg string, err error) {
	h.rejected.WithLabelValues(reason).Inc()
	attrs := []slog.Attr{slog.String("reason", reason), slog.Int("status", status)}
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
	}
	logging.From(ctx).LogAttrs(ctx, slog.LevelWarn, "webhook rejected: "+msg, attrs...)
	writeIntakeError(w, status, msg)
}

func writeIntakeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func writeIntakeError(w http.ResponseWriter, status int, msg string) {
	// msg is one of the constants above: no escaping needed.
	writeIntakeJSON(w, status, []byte(`{"error":"`+msg+`"}`+"\n"))
}

// readWebhookBody reads the whole body, at most limit bytes. A body of known
// length is read into one buffer of exactly that size.
func readWebhookBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n >= 0 {
		buf := make([]byte, n)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// webhookSignatureMatches reports whether header ("sha256=<hex>") is the
// HMAC-SHA256 of body under one of secrets. Empty secrets never match.
func webhookSignatureMatches(header string, body []byte, secrets [][]byte) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSum) != 2*sha256.Size {
		return false
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(hexSum)); err != nil {
		return false
	}
	var sum [sha256.Size]byte
	matched := false
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		// Every secret is tried, so the time taken does not tell which matched.
		if hmac.Equal(mac.Sum(sum[:0]), want[:]) {
			matched = true
		}
	}
	return matched
}

// validDeliveryGUID accepts what GitHub sends (a UUID) and anything similar:
// 1 to 100 letters, digits and dashes.
func validDeliveryGUID(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validEventName accepts GitHub's event names: lower-case words joined by
// underscores, at most 64 characters.
func validEventName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}
