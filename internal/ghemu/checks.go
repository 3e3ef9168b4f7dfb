package ghemu

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// CheckRuns returns copies of the check runs on sha, oldest first.
func (r *Repo) CheckRuns(sha string) []CheckRun {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []CheckRun
	for _, c := range e.checkRunsLocked(r.repoLocked(), sha) {
		out = append(out, c.clone())
	}
	return out
}

// CheckRun returns a copy of check run id.
func (e *Emulator) CheckRun(id int64) (CheckRun, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.st.checkRuns[id]
	if !ok {
		return CheckRun{}, false
	}
	return c.clone(), true
}

func (e *Emulator) checkRunsLocked(r *repo, sha string) []*CheckRun {
	var out []*CheckRun
	for _, c := range e.st.checkRuns {
		if c.Repo == r.fullName() && c.HeadSHA == sha {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *CheckRun) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// RerequestCheckRun is user clicking "Re-run" on check run id: GitHub sends
// check_run rerequested.
func (r *Repo) RerequestCheckRun(id int64, user string) {
	e := r.e
	e.act(func() []outgoing {
		c, ok := e.st.checkRuns[id]
		if !ok || c.Repo != r.repoLocked().fullName() {
			panic(fmt.Sprintf("ghemu: no check run %d in %s", id, r.FullName()))
		}
		return []outgoing{e.checkRunEventLocked(c, "rerequested", user, nil)}
	})
}

// ClickCheckRunAction is user clicking the button identifier of check run
// id: GitHub sends check_run requested_action. Like GitHub, it offers only
// the buttons the run has (it panics for another identifier).
func (r *Repo) ClickCheckRunAction(id int64, identifier, user string) {
	e := r.e
	e.act(func() []outgoing {
		c, ok := e.st.checkRuns[id]
		if !ok || c.Repo != r.repoLocked().fullName() {
			panic(fmt.Sprintf("ghemu: no check run %d in %s", id, r.FullName()))
		}
		if !slices.ContainsFunc(c.Actions, func(a CheckRunAction) bool { return a.Identifier == identifier }) {
			panic(fmt.Sprintf("ghemu: ClickCheckRunAction: check run %d has no button %q (it has %+v)", id, identifier, c.Actions))
		}
		return []outgoing{e.checkRunEventLocked(c, "requested_action", user, obj{"requested_action": obj{"identifier": identifier}})}
	})
}

// RerequestCheckSuite is user clicking "Re-run all checks" on sha: GitHub
// sends check_suite rerequested.
func (r *Repo) RerequestCheckSuite(sha, user string) {
	e := r.e
	e.act(func() []outgoing {
		return []outgoing{e.checkSuiteEventLocked(e.suiteLocked(r.repoLocked(), sha), "rerequested", user)}
	})
}

// WaitCheckRun waits until the newest check run called name on sha is
// completed, and returns it.
func (r *Repo) WaitCheckRun(ctx context.Context, sha, name string) (CheckRun, error) {
	var got CheckRun
	err := r.e.WaitFor(ctx, func() bool {
		runs := r.CheckRuns(sha)
		for i := len(runs) - 1; i >= 0; i-- {
			if runs[i].Name == name {
				got = runs[i]
				return got.Status == "completed"
			}
		}
		return false
	})
	if err != nil {
		return got, fmt.Errorf("check run %q on %s of %s not completed (last seen: %q): %w", name, sha, r.FullName(), got.Status, err)
	}
	return got, nil
}

// suiteLocked is the app's check suite for sha in r, made on first use.
func (e *Emulator) suiteLocked(r *repo, sha string) *checkSuite {
	k := suiteKey{repo: repoKey(r.fullName()), sha: sha}
	if s, ok := e.st.suites[k]; ok {
		return s
	}
	e.st.nextSuiteID++
	s := &checkSuite{id: e.st.nextSuiteID, repo: r, headSHA: sha, headRef: branchOfLocked(r, sha), createdAt: e.timestamp()}
	e.st.suites[k] = s
	return s
}
