package app_test

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/fivesafes/fivesafes/internal/ghemu"
	"github.com/fivesafes/fivesafes/release"
)

// releaseConfig makes cara and dan output checkers, two approvals needed.
const releaseConfig = "release:\n  approvals_required: 2\n  checkers:\n    users: [cara, dan]\n"

// releaseStudy is a study whose process action writes a CSV of counts and
// a PNG with every byte value, both moderately sensitive.
func releaseStudy(replace map[string]string) map[string]string {
	files := study(nil)
	files["project.yaml"] = `version: '5.0'
actions:
  generate:
    run: sh:v1 analysis/generate.sh
    outputs:
      highly_sensitive:
        data: output/data.csv
  process:
    run: sh:v1 analysis/process.sh
    needs: [generate]
    outputs:
      moderately_sensitive:
        counts: output/counts.csv
        plot: output/plot.png
`
	files["analysis/process.sh"] = `set -e
test -s output/data.csv
printf 'group,count\nall,10\nnew,3\n' > output/counts.csv
printf '\211PNG\r\n\032\n' > output/plot.png
i=0
while [ $i -lt 256 ]; do printf "\\$(printf %o $i)" >> output/plot.png; i=$((i+1)); done
`
	for k, v := range replace {
		files[k] = v
	}
	return files
}

// releaseAsk is a /release comment with its context and controls.
func releaseAsk(paths ...string) string {
	return "/release " + strings.Join(paths, " ") + "\n\nContext: counts of patients by group, and a plot of them\n\nControls: counts under 10 suppressed, the rest rounded to 5\n"
}

// ranAll opens a release study, runs it and waits for success. The
// output checkers cara and dan can read the repository.
func (e *runEnv) ranAll(files map[string]string) (pr int, sha, branch string) {
	e.t.Helper()
	e.Repo.SetPermission("cara", "read")
	e.Repo.SetPermission("dan", "read")
	pr, sha, branch = e.openStudy(files)
	e.Repo.Comment(pr, "ana", "/run all")
	if run := e.waitRun(sha, 1, "tpp"); run.Conclusion != "success" {
		e.t.Fatalf("run #1: %s\n%s", run.Output.Title, run.Output.Text)
	}
	return pr, sha, branch
}

var readyPR = regexp.MustCompile(`Release #(\d+) is ready for review: #(\d+) \(revision (\d+)`)

// waitReleasePR waits for the research pull request to hear that revision
// rev of a release is ready, and returns the release pull request.
func (e *runEnv) waitReleasePR(pr, rev int) ghemu.PullRequest {
	e.t.Helper()
	var number int
	_, err := e.Repo.WaitComment(e.ctx, pr, func(c ghemu.Comment) bool {
		m := readyPR.FindStringSubmatch(c.Body)
		if m == nil || m[3] != strconv.Itoa(rev) {
			return false
		}
		number, _ = strconv.Atoi(m[2])
		return true
	})
	if err != nil {
		e.t.Fatal(err)
	}
	p, ok := e.Repo.PullRequest(number)
	if !ok {
		e.t.Fatalf("no release pull request #%d", number)
	}
	return p
}

// releaseOf is the release whose pull request is number.
func (e *runEnv) releaseOf(number int) release.Release {
	e.t.Helper()
	r, err := e.Server().Releases().ByReleasePR(e.ctx, e.Repo.FullName(), number)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// waitReleaseCheck waits for the release check run on sha to satisfy cond.
func (e *runEnv) waitReleaseCheck(sha string, cond func(ghemu.CheckRun) bool) ghemu.CheckRun {
	e.t.Helper()
	return e.waitCheckRun(sha, release.CheckRunName, cond)
}

// released is the file a release committed, on the release branch.
func (e *runEnv) committed(releaseBranch, researchBranch, path string) (string, bool) {
	return e.Repo.File(releaseBranch, release.ReleasedPath(researchBranch, path))
}
