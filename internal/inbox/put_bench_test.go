//go:build unix

package inbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/internal/store"
)

// BenchmarkPut stores 8 KB deliveries from concurrent callers, without HTTP:
// the inbox's own share of the webhook intake.
func BenchmarkPut(b *testing.B) {
	payload := make([]byte, 8192)
	for i := range payload {
		payload[i] = "abcdefghijklmnopqrstuvwxyz {}\","[i%31]
	}
	for _, callers := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			in := New(db)
			defer in.Close()

			var next atomic.Int64
			lat := make([][]time.Duration, callers)
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0 := processCPU()
			start := time.Now()
			for c := range callers {
				wg.Go(func() {
					for {
						n := next.Add(1)
						if n > int64(b.N) {
							return
						}
						d := Delivery{
							GUID:     randomGUID(),
							Event:    "pull_request",
							Action:   "synchronize",
							Repo:     "octo/hello",
							OrderKey: fmt.Sprintf("octo/hello#%d", n%50),
							Payload:  payload,
						}
						t0 := time.Now()
						if _, err := in.Put(context.Background(), d); err != nil {
							b.Error(err)
							return
						}
						lat[c] = append(lat[c], time.Since(t0))
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			cpu := processCPU() - cpu0
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "puts/s")
			b.ReportMetric(float64(all[len(all)/2])/1e6, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100])/1e6, "p99-ms")
			b.ReportMetric(float64(cpu/time.Microsecond)/float64(len(all)), "cpu-µs/put")
		})
	}
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// randomGUID looks like X-GitHub-Delivery: a random UUID, so that the GUID
// index sees inserts all over, as it would in production.
func randomGUID() string {
	a, b := rand.Uint64(), rand.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}
