package ghemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// webhook is where the app's events go.
type webhook struct {
	url    string
	secret []byte
	id     int64
}

// Delivery is a webhook the emulator sent, or tried to.
type Delivery struct {
	GUID       string
	Event      string
	Action     string
	HookID     int64
	Redelivery bool
	StatusCode int    // what the receiver answered; 0 if it did not answer
	Err        string // why it did not answer
	Header     http.Header
	Body       []byte
	At         time.Time
	Duration   time.Duration
}

// ErrNoWebhook is returned by Send and Redeliver before SetWebhook.
var ErrNoWebhook = errors.New("ghemu: no webhook URL set (SetWebhook)")

// hookshotVersion is what GitHub's User-Agent carries after the slash.
const hookshotVersion = "2c7c1f5"

// SetWebhook sets the app's webhook URL and secret.
func (e *Emulator) SetWebhook(url string, secret []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.nextHookID++
	e.st.hook = webhook{url: url, secret: bytes.Clone(secret), id: e.st.nextHookID}
}

// Signature is the X-Hub-Signature-256 value GitHub would send with body.
func (e *Emulator) Signature(body []byte) string {
	e.mu.Lock()
	secret := e.st.hook.secret
	e.mu.Unlock()
	return "sha256=" + hmacHex(sha256.New, secret, body)
}

func hmacHex(h func() hash.Hash, secret, body []byte) string {
	m := hmac.New(h, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Send delivers an event with a new delivery GUID, signed and with GitHub's
// headers, and returns what the receiver answered. payload is marshalled
// to JSON unless it is already []byte or json.RawMessage.
func (e *Emulator) Send(event string, payload any) (status int, guid string, err error) {
	var body []byte
	switch p := payload.(type) {
	case []byte:
		body = p
	case json.RawMessage:
		body = p
	default:
		if body, err = json.Marshal(payload); err != nil {
			return 0, "", fmt.Errorf("ghemu: marshal %s payload: %w", event, err)
		}
	}
	var head struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal(body, &head)
	return e.deliver(event, head.Action, body, "", false)
}

// Redeliver sends delivery guid again, with the same GUID, event and body,
// as GitHub's "Redeliver" button does.
func (e *Emulator) Redeliver(guid string) (status int, err error) {
	e.mu.Lock()
	i := slices.IndexFunc(e.st.deliveries, func(d Delivery) bool { return d.GUID == guid })
	var d Delivery
	if i >= 0 {
		d = e.st.deliveries[i]
	}
	e.mu.Unlock()
	if i < 0 {
		return 0, fmt.Errorf("ghemu: no delivery %s", guid)
	}
	status, _, err = e.deliver(d.Event, d.Action, d.Body, guid, true)
	return status, err
}

// SendRaw posts body to the webhook URL with exactly header: nothing is
// added or signed. Use it for bad signatures, missing headers and the like.
// The attempt is recorded in Deliveries.
func (e *Emulator) SendRaw(header http.Header, body []byte) (status int, err error) {
	e.mu.Lock()
	hook := e.st.hook
	e.mu.Unlock()
	var head struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal(body, &head)
	d := Delivery{
		GUID: header.Get("X-GitHub-Delivery"), Event: header.Get("X-GitHub-Event"), Action: head.Action,
		HookID: hook.id, Header: header.Clone(), Body: body,
	}
	return e.post(hook, d)
}

// Deliveries lists every delivery attempt, oldest first.
func (e *Emulator) Deliveries() []Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Delivery, len(e.st.deliveries))
	for i, d := range e.st.deliveries {
		d.Header = d.Header.Clone()
		out[i] = d
	}
	return out
}

func (e *Emulator) deliver(event, action string, body []byte, guid string, redelivery bool) (int, string, error) {
	if guid == "" {
		guid = newUUID()
	}
	e.mu.Lock()
	hook := e.st.hook
	e.mu.Unlock()
	h := http.Header{}
	// GitHub's spelling; the receiving server canonicalises anyway.
	h["Content-Type"] = []string{"application/json"}
	h["User-Agent"] = []string{"GitHub-Hookshot/" + hookshotVersion}
	h["X-GitHub-Event"] = []string{event}
	h["X-GitHub-Delivery"] = []string{guid}
	h["X-GitHub-Hook-ID"] = []string{strconv.FormatInt(hook.id, 10)}
	h["X-GitHub-Hook-Installation-Target-Type"] = []string{"integration"}
	h["X-GitHub-Hook-Installation-Target-ID"] = []string{strconv.FormatInt(e.appID, 10)}
	h["X-Hub-Signature"] = []string{"sha1=" + hmacHex(sha1.New, hook.secret, body)}
	h["X-Hub-Signature-256"] = []string{"sha256=" + hmacHex(sha256.New, hook.secret, body)}
	d := Delivery{GUID: guid, Event: event, Action: action, HookID: hook.id, Redelivery: redelivery, Header: h, Body: body}
	status, err := e.post(hook, d)
	return status, guid, err
}

// post sends d to hook and records the attempt.
func (e *Emulator) post(hook webhook, d Delivery) (int, error) {
	d.At = e.now()
	err := ErrNoWebhook
	if hook.url != "" {
		start := time.Now()
		d.StatusCode, err = e.postOnce(hook.url, d.Header, d.Body)
		d.Duration = time.Since(start)
	}
	if err != nil {
		d.Err = err.Error()
	}
	e.log.Info("webhook delivered", "delivery", d.GUID, "event", d.Event, "action", d.Action,
		"status", d.StatusCode, "err", d.Err, "redelivery", d.Redelivery)
	e.mu.Lock()
	e.st.deliveries = append(e.st.deliveries, d)
	e.changedLocked()
	e.mu.Unlock()
	return d.StatusCode, err
}

func (e *Emulator) postOnce(url string, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("ghemu: webhook URL: %w", err)
	}
	req.Header = h.Clone()
	resp, err := e.hookHTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("ghemu: deliver: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// newUUID is a random (version 4) UUID, the form of X-GitHub-Delivery.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
