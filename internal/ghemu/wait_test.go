package ghemu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-github/v88/github"
)

func TestWaitForWakesOnChange(t *testing.T) {
	emu, repo := start(t)
	gh := client(t, emu)
	sha := repo.Head("main")

	done := make(chan error, 1)
	go func() {
		// The "bot": create the check run, then complete it.
		run, _, err := gh.Checks.CreateCheckRun(context.Background(), "ana", "study", github.CreateCheckRunOptions{
			Name: "fivesafes / project.yaml", HeadSHA: sha, Status: github.Ptr("in_progress"),
		})
		if err == nil {
			_, _, err = gh.Checks.UpdateCheckRun(context.Background(), "ana", "study", run.GetID(), github.UpdateCheckRunOptions{
				Name: "fivesafes / project.yaml", Conclusion: github.Ptr("success"),
			})
		}
		done <- err
	}()

	run, err := repo.WaitCheckRun(ctxTimeout(t), sha, "fivesafes / project.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "completed" || run.Conclusion != "success" {
		t.Errorf("run %+v", run)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitForGivesUpWithTheContext(t *testing.T) {
	emu, repo := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	go func() {
		// Wake the waiter with an unrelated change, then give up.
		repo.Commit("other", map[string]string{"x": "y"}, "x")
		cancel()
	}()
	err := emu.WaitFor(ctx, func() bool { calls++; return false })
	if !errors.Is(err, context.Canceled) || calls < 1 {
		t.Errorf("err %v after %d evaluations", err, calls)
	}
	if _, err := repo.WaitCheckRun(ctx, repo.Head("main"), "never"); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitCheckRun: %v", err)
	}
}
