//go:build unix

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/inbox"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/store"
)

// BenchmarkIntake posts signed ~8 KB pull_request deliveries over loopback
// HTTP from 1 to 128 concurrent senders, to the full intake storing into a
// SQLite inbox ("durable") and to a handler that only reads the body and
// checks its signature ("ceiling"). It reports deliveries/s and the latency
// of acknowledgements; the durable runs check afterwards that every delivery
// acknowledged is in the database.
//
//	go test -run '^$' -bench Intake -benchtime 3s ./app/
func BenchmarkIntake(b *testing.B) {
	const secret = "bench-secret"
	payloads := benchPayloads(b, secret, 64)
	for _, senders := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("durable/senders=%d", senders), func(b *testing.B) {
			db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			in := inbox.New(db)
			defer in.Close()
			h := NewIntake(func() [][]byte { return [][]byte{[]byte(secret)} }, in, NewMetrics(nil))
			acks := runIntakeBench(b, h, payloads, senders)

			var rows int
			if err := db.R.QueryRow("SELECT count(*) FROM deliveries").Scan(&rows); err != nil {
				b.Fatal(err)
			}
			if rows != acks {
				b.Fatalf("%d deliveries acknowledged, %d stored", acks, rows)
			}
		})
		b.Run(fmt.Sprintf("ceiling/senders=%d", senders), func(b *testing.B) {
			keys := [][]byte{[]byte(secret)}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := readWebhookBody(w, r, MaxWebhookBody)
				if err != nil || !webhookSignatureMatches(r.Header.Get("X-Hub-Signature-256"), body, keys) {
					http.Error(w, "no", http.StatusUnauthorized)
					return
				}
				writeIntakeJSON(w, http.StatusAccepted, intakeQueued)
			})
			runIntakeBench(b, h, payloads, senders)
		})
	}
}

type benchPayload struct {
	body      []byte
	signature string
}

// benchPayloads makes n variants of GitHub's pull_request "opened" example,
// trimmed to about 8 KB (8.9 KB), each about a different pull request with
// a different description.
func benchPayloads(b *testing.B, secret string, n int) []benchPayload {
	var base map[string]any
	if err := json.Unmarshal(webhookExample(b, "pull_request.opened.json"), &base); err != nil {
		b.Fatal(err)
	}
	base["installation"] = map[string]any{"id": 42, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI="}
	pr := base["pull_request"].(map[string]any)
	for _, side := range []string{"head", "base"} {
		ref := pr[side].(map[string]any)
		delete(ref, "repo") // the same repository again, twice: 10 KB
		delete(ref, "user")
	}
	delete(pr, "_links")
	out := make([]benchPayload, n)
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the pipeline runs the cohort extraction then the models and writes tables of counts")
	for i := range out {
		pr["number"] = 1 + i
		pr["title"] = fmt.Sprintf("Update analysis %d", i)
		pr["body"] = ""
		probe, _ := json.Marshal(base)
		var text strings.Builder
		for text.Len() < max(256, 8192-len(probe)) {
			text.WriteString(words[rng.IntN(len(words))])
			text.WriteByte(' ')
		}
		pr["body"] = text.String()
		body, err := json.Marshal(base)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = benchPayload{body: body, signature: signWebhook(secret, body)}
	}
	return out
}

// runIntakeBench sends b.N deliveries to h from senders goroutines, each
// waiting for its answer before sending the next, and returns how many were
// acknowledged (all of them, or the benchmark fails).
func runIntakeBench(b *testing.B, h http.Handler, payloads []benchPayload, senders int) int {
	quiet := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(logging.With(r.Context(), quiet)))
	}))
	defer srv.Close()
	transport := &http.Transport{MaxIdleConns: 2 * senders, MaxIdleConnsPerHost: 2 * senders, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	url := srv.URL + "/webhook"

	var next, acked atomic.Int64
	latencies := make([][]time.Duration, senders)
	var failure sync.Once
	var failed error
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for s := range senders {
		wg.Go(func() {
			lat := make([]time.Duration, 0, b.N/senders+1)
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					break
				}
				p := payloads[int(n)%len(payloads)]
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(p.body))
				req.Header = http.Header{
					"Content-Type":        {"application/json"},
					"X-Github-Event":      {"pull_request"},
					"X-Github-Delivery":   {benchGUID()},
					"X-Hub-Signature-256": {p.signature},
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("answer %s", resp.Status)
					}
				}
				if err != nil {
					failure.Do(func() { failed = err })
					return
				}
				lat = append(lat, time.Since(t0))
				acked.Add(1)
			}
			latencies[s] = lat
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}

	all := slices.Concat(latencies...)
	slices.Sort(all)
	ms := func(q float64) float64 {
		return float64(all[int(q*float64(len(all)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	// CPU per delivery (client and server together) tells the cost apart
	// from how busy the machine was.
	b.ReportMetric(float64(cpu/time.Microsecond)/float64(len(all)), "cpu-µs/delivery")
	return int(acked.Load())
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchGUID looks like X-GitHub-Delivery: a random UUID, so that the GUID
// index sees inserts all over, as it would in production.
func benchGUID() string {
	a, b := rand.Uint64(), rand.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}
