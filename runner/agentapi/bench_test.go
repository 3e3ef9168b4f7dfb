package agentapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// BenchmarkQueueToClaim measures how long a parked agent takes to hold a
// task, from the start of CreateRequest (which commits the job and its
// task) to the agent having decoded the claim answer, over real HTTP.
func BenchmarkQueueToClaim(b *testing.B) {
	e := newEnv(b, nil)
	p := jobstest.Chain()
	pl := mustPlan(b, "generate_dataset")
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		got := make(chan time.Time, 1)
		go func() {
			if _, ok := e.claim(tppToken, "30s"); !ok {
				b.Error("no task")
			}
			got <- time.Now()
		}()
		for !e.st.Notifier().Waiting("tpp") {
			time.Sleep(50 * time.Microsecond)
		}
		start := time.Now()
		id := fmt.Sprintf("bench-%d", i)
		if _, err := e.st.CreateRequest(ctx, jobs.Request{ID: id, Repo: "owner/study", PR: 1, Workspace: "owner/study/" + id,
			HeadSHA: testSHA, Backend: "tpp", Requester: "ana"}, pl, p, time.Now()); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-got).Sub(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "µs-median")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "µs-p99")
}

// mustPlan plans actions of jobstest.Chain in an empty workspace.
func mustPlan(t testing.TB, actions ...string) plan.Plan {
	t.Helper()
	pl, err := plan.Make(plan.Request{Pipeline: jobstest.Chain(), Actions: actions, Files: jobstest.Files()})
	if err != nil {
		t.Fatal(err)
	}
	return pl
}
