package web

import "strings"

// status is a state as a reader sees it: a word, always, and a tone for
// its colour, one of a fixed set of CSS classes.
type status struct {
	Word string
	Tone string // ok, bad, active, waiting, ended
}

const (
	toneOK      = "ok"      // green: it worked
	toneBad     = "bad"     // red: it failed
	toneActive  = "active"  // blue: under way
	toneWaiting = "waiting" // amber: waits for someone
	toneEnded   = "ended"   // grey: over without an outcome
)

type wordTone map[string]status

// of is the status of code; an unknown code is its own words in grey.
func (m wordTone) of(code string) status {
	if s, ok := m[code]; ok {
		return s
	}
	return status{Word: words(code), Tone: toneEnded}
}

var runStatuses = wordTone{
	"held":      {"held for approval", toneWaiting},
	"stale":     {"stale", toneEnded},
	"withdrawn": {"withdrawn", toneEnded},
	"running":   {"running", toneActive},
	"succeeded": {"succeeded", toneOK},
	"failed":    {"failed", toneBad},
}

var jobStates = wordTone{
	"pending":   {"pending", toneWaiting},
	"running":   {"running", toneActive},
	"succeeded": {"succeeded", toneOK},
	"failed":    {"failed", toneBad},
}

// jobStatuses are job-runner's status codes.
var jobStatuses = wordTone{
	"waiting_on_dependencies": {"waiting on dependencies", toneWaiting},
	"waiting_on_workers":      {"waiting on workers", toneWaiting},
	"preparing":               {"preparing", toneActive},
	"executing":               {"executing", toneActive},
	"finalizing":              {"finalizing", toneActive},
	"succeeded":               {"succeeded", toneOK},
	"dependency_failed":       {"dependency failed", toneBad},
	"nonzero_exit":            {"nonzero exit", toneBad},
	"unmatched_patterns":      {"unmatched patterns", toneBad},
	"cancelled_by_user":       {"cancelled by user", toneEnded},
	"internal_error":          {"internal error", toneBad},
	"timed_out":               {"timed out", toneBad},
}

var releaseStates = wordTone{
	"pending_manifest": {"preparing manifest", toneActive},
	"in_review":        {"in review", toneWaiting},
	"returned":         {"returned for changes", toneWaiting},
	"approved":         {"approved", toneOK},
	"uploading":        {"uploading", toneActive},
	"released":         {"released", toneOK},
	"rejected":         {"rejected", toneBad},
	"withdrawn":        {"withdrawn", toneEnded},
}

var planDecisions = wordTone{
	"run":   {"run", toneActive},
	"reuse": {"reuse earlier job", toneOK},
	"wait":  {"wait for running job", toneWaiting},
}

// kindWords are the log's entry kinds in words.
var kindWords = map[string]string{
	"run.requested":         "run requested",
	"run.held":              "run held for approval",
	"run.approved":          "run approved",
	"run.refused":           "run refused",
	"run.nothing_to_do":     "nothing to run",
	"run.stale":             "held run went stale",
	"run.withdrawn":         "held run withdrawn",
	"run.finished":          "run finished",
	"job.created":           "job created",
	"job.state":             "job changed state",
	"release.requested":     "release requested",
	"release.revised":       "release revised",
	"release.manifest":      "manifest prepared",
	"release.published":     "release pull request opened",
	"release.review":        "review",
	"release.returned":      "returned for changes",
	"release.approved":      "release approved",
	"release.tainted":       "release branch changed by someone else",
	"release.restored":      "release branch restored",
	"release.file_received": "file received",
	"release.alarm":         "upload did not match",
	"release.released":      "files released",
	"release.rejected":      "release rejected",
	"release.withdrawn":     "release withdrawn",
}

// kind is an entry kind in words; an unknown kind is its own words.
func kind(k string) string {
	if w, ok := kindWords[k]; ok {
		return w
	}
	return words(k)
}

// words turns a code ("nonzero_exit", "run.nothing_to_do") into words.
func words(code string) string {
	return strings.NewReplacer("_", " ", ".", " ").Replace(code)
}

// actionList is what a run asked for, in words.
func actionList(actions []string) string {
	if len(actions) == 1 && actions[0] == "run_all" {
		return "all actions (run_all)"
	}
	return strings.Join(actions, ", ")
}
