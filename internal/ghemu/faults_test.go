package ghemu_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v88/github"

	"github.com/fivesafes/fivesafes/internal/ghemu"
)

const checkRunsPath = "/repos/{owner}/{repo}/check-runs"

// ensureCheckRun is how an idempotent bot creates a check run: find it by
// name and external ID first, create it only if it is not there.
func ensureCheckRun(ctx context.Context, gh *github.Client, sha string) error {
	res, _, err := gh.Checks.ListCheckRunsForRef(ctx, "ana", "study", sha, &github.ListCheckRunsOptions{CheckName: github.Ptr("c")})
	if err != nil {
		return err
	}
	for _, r := range res.CheckRuns {
		if r.GetExternalID() == "job-1" {
			return nil
		}
	}
	_, _, err = gh.Checks.CreateCheckRun(ctx, "ana", "study", github.CreateCheckRunOptions{Name: "c", HeadSHA: sha, ExternalID: github.Ptr("job-1")})
	return err
}

func TestBadGatewayThenSuccessMakesOneCheckRun(t *testing.T) {
	for name, opts := range map[string][]ghemu.FaultOption{
		"502 before the request takes effect": nil,
		"502 after the check run was created": {ghemu.AfterApplying()},
	} {
		t.Run(name, func(t *testing.T) {
			emu, repo := start(t)
			gh := client(t, emu)
			ctx := context.Background()
			sha := repo.Head("main")
			emu.Fail("POST", checkRunsPath, 1, http.StatusBadGateway, opts...)

			err := ensureCheckRun(ctx, gh, sha)
			if statusOf(err) != http.StatusBadGateway {
				t.Fatalf("first attempt: %v, want 502", err)
			}
			if err := ensureCheckRun(ctx, gh, sha); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if runs := repo.CheckRuns(sha); len(runs) != 1 {
				t.Errorf("%d check runs, want 1", len(runs))
			}
			wantPosts := 2
			if opts != nil {
				wantPosts = 1 // the retry found the run the failed attempt made
			}
			if n := emu.Requests("POST", checkRunsPath); n != wantPosts {
				t.Errorf("%d POSTs, want %d", n, wantPosts)
			}
		})
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	emu.Fail("POST", "/repos/ana/study/check-runs", 1, http.StatusForbidden, ghemu.SecondaryRateLimit(time.Second))
	_, _, err := gh.Checks.CreateCheckRun(context.Background(), "ana", "study", github.CreateCheckRunOptions{Name: "c", HeadSHA: repo.Head("main")})
	var rl *github.AbuseRateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter == nil || *rl.RetryAfter != time.Second {
		t.Fatalf("got %v, want a secondary rate limit with Retry-After 1s", err)
	}
	if runs := repo.CheckRuns(repo.Head("main")); len(runs) != 0 {
		t.Errorf("a rate-limited request created %d check runs", len(runs))
	}
}

func TestFaultsApplyToMatchingRequestsOnly(t *testing.T) {
	emu, _ := start(t)
	gh := client(t, emu)
	ctx := context.Background()
	emu.Fail("", "/repos/{owner}/{repo}", 2, http.StatusServiceUnavailable, ghemu.FaultBody(`{"message":"down"}`), ghemu.FaultHeader("X-Fault", "1"))
	emu.Fail("POST", "/repos/{owner}/{repo}", 5, http.StatusInternalServerError) // wrong method: never applies

	if _, _, err := gh.Checks.ListCheckRunsForRef(ctx, "ana", "study", "main", nil); err != nil {
		t.Errorf("another operation was hit: %v", err)
	}
	for i := range 2 {
		_, resp, err := gh.Repositories.Get(ctx, "ana", "study")
		if statusOf(err) != http.StatusServiceUnavailable || resp.Header.Get("X-Fault") != "1" {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if _, _, err := gh.Repositories.Get(ctx, "ana", "study"); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	if n := emu.Requests("GET", "/repos/{owner}/{repo}"); n != 3 {
		t.Errorf("counted %d requests, want 3", n)
	}
}

func TestSlowAnswers(t *testing.T) {
	emu, _ := start(t)
	gh := client(t, emu)
	emu.Slow("GET", "/repos/{owner}/{repo}", 1, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := gh.Repositories.Get(ctx, "ana", "study"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow answer: %v, want the client's deadline", err)
	}
	if _, _, err := gh.Repositories.Get(context.Background(), "ana", "study"); err != nil {
		t.Errorf("next answer: %v", err)
	}
}
