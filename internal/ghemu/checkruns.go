package ghemu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// checkRunRequest is the body of a create or update; nil means "not sent".
type checkRunRequest struct {
	Name        *string          `json:"name"`
	HeadSHA     *string          `json:"head_sha"`
	DetailsURL  *string          `json:"details_url"`
	ExternalID  *string          `json:"external_id"`
	Status      *string          `json:"status"`
	StartedAt   *time.Time       `json:"started_at"`
	Conclusion  *string          `json:"conclusion"`
	CompletedAt *time.Time       `json:"completed_at"`
	Output      *outputRequest   `json:"output"`
	Actions     *[]actionRequest `json:"actions"`
}

type outputRequest struct {
	Title       *string             `json:"title"`
	Summary     *string             `json:"summary"`
	Text        *string             `json:"text"`
	Annotations []annotationRequest `json:"annotations"`
}

type annotationRequest struct {
	Path        string `json:"path"`
	StartLine   int    `json:"start_line"`
	EndLine     int    `json:"end_line"`
	StartColumn *int   `json:"start_column"`
	EndColumn   *int   `json:"end_column"`
	Level       string `json:"annotation_level"`
	Message     string `json:"message"`
	Title       string `json:"title"`
	RawDetails  string `json:"raw_details"`
}

type actionRequest struct {
	Label       string `json:"label"`
	Description string `json:"description"`
	Identifier  string `json:"identifier"`
}

// GitHub's documented limits on check runs.
const (
	maxAnnotationsPerRequest = 50
	maxOutputChars           = 65535
	maxAnnotationBytes       = 64 << 10 // message, raw_details
	maxAnnotationTitle       = 255
)

// checkRunBodyRules is checkRunRules for a raw body.
func checkRunBodyRules(body []byte) string {
	var in checkRunRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return "the body is not a check run: " + err.Error()
	}
	return checkRunRules(&in)
}

// checkRunRules are GitHub's rules that its description does not express
// (or expresses for one operation only). It returns what is wrong, or "".
func checkRunRules(in *checkRunRequest) string {
	if in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		return "name can't be blank"
	}
	if in.Status != nil {
		switch *in.Status {
		case "queued", "in_progress", "completed":
		case "waiting", "requested", "pending":
			return "only GitHub Actions can set a status of " + *in.Status
		default:
			return fmt.Sprintf("status %q is not one of queued, in_progress, completed", *in.Status)
		}
	}
	if in.Conclusion == nil && ((in.Status != nil && *in.Status == "completed") || in.CompletedAt != nil) {
		return "conclusion is required when status is completed or completed_at is given"
	}
	if in.Conclusion != nil && *in.Conclusion == "stale" {
		return "only GitHub can set the conclusion stale"
	}
	if o := in.Output; o != nil {
		if o.Title == nil {
			return "output.title is required"
		}
		if o.Summary == nil {
			return "output.summary is required"
		}
		for name, s := range map[string]*string{"title": o.Title, "summary": o.Summary, "text": o.Text} {
			if s != nil && utf8.RuneCountInString(*s) > maxOutputChars {
				return "output." + name + " is longer than 65535 characters"
			}
		}
		if len(o.Annotations) > maxAnnotationsPerRequest {
			return "at most 50 annotations are accepted per request; send the rest in further updates"
		}
		for i, a := range o.Annotations {
			if msg := annotationRule(a); msg != "" {
				return "output.annotations[" + strconv.Itoa(i) + "]: " + msg
			}
		}
	}
	if in.Actions != nil {
		if len(*in.Actions) > maxActions {
			return "at most 3 actions are accepted"
		}
		for i, a := range *in.Actions {
			if msg := actionRule(a); msg != "" {
				return "actions[" + strconv.Itoa(i) + "]: " + msg
			}
		}
	}
	return ""
}

// GitHub's limits on a check run's buttons.
const (
	maxActions           = 3
	maxActionLabel       = 20
	maxActionDescription = 40
	maxActionIdentifier  = 20
)

func actionRule(a actionRequest) string {
	switch {
	case a.Label == "" || a.Description == "" || a.Identifier == "":
		return "label, description and identifier are required"
	case utf8.RuneCountInString(a.Label) > maxActionLabel:
		return "label is longer than 20 characters"
	case utf8.RuneCountInString(a.Description) > maxActionDescription:
		return "description is longer than 40 characters"
	case utf8.RuneCountInString(a.Identifier) > maxActionIdentifier:
		return "identifier is longer than 20 characters"
	}
	return ""
}

// runRules are GitHub's rules on the check run a request leaves behind.
func runRules(run *CheckRun) string {
	if run.Conclusion == "action_required" && run.DetailsURL == "" {
		return "details_url is required when the conclusion is action_required"
	}
	return ""
}

func annotationRule(a annotationRequest) string {
	switch {
	case a.StartLine < 1:
		return "start_line must be at least 1 (line numbers start at 1)"
	case a.EndLine < a.StartLine:
		return "end_line is before start_line"
	case (a.StartColumn != nil || a.EndColumn != nil) && a.StartLine != a.EndLine:
		return "start_column and end_column are only allowed when start_line equals end_line"
	case a.StartColumn != nil && *a.StartColumn < 1, a.EndColumn != nil && *a.EndColumn < 1:
		return "columns start at 1"
	case a.StartColumn != nil && a.EndColumn != nil && *a.EndColumn < *a.StartColumn:
		return "end_column is before start_column"
	case len(a.Message) > maxAnnotationBytes:
		return "message is larger than 64 KB"
	case len(a.RawDetails) > maxAnnotationBytes:
		return "raw_details is larger than 64 KB"
	case utf8.RuneCountInString(a.Title) > maxAnnotationTitle:
		return "title is longer than 255 characters"
	}
	return ""
}

// apply changes run as GitHub does: fields sent replace those on the run,
// a conclusion completes it, and annotations are appended to those already
// there.
func (in *checkRunRequest) apply(run *CheckRun, now time.Time) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&run.Name, in.Name)
	set(&run.DetailsURL, in.DetailsURL)
	set(&run.ExternalID, in.ExternalID)
	if in.StartedAt != nil {
		run.StartedAt = in.StartedAt.UTC().Truncate(time.Second)
	}
	set(&run.Status, in.Status)
	if in.Conclusion != nil {
		run.Conclusion, run.Status = *in.Conclusion, "completed"
	}
	if in.CompletedAt != nil {
		run.CompletedAt = in.CompletedAt.UTC().Truncate(time.Second)
	}
	switch {
	case run.Status == "completed" && run.CompletedAt.IsZero():
		run.CompletedAt = now
	case run.Status != "completed":
		run.Conclusion, run.CompletedAt = "", time.Time{}
	}
	if o := in.Output; o != nil {
		set(&run.Output.Title, o.Title)
		set(&run.Output.Summary, o.Summary)
		set(&run.Output.Text, o.Text)
		for _, a := range o.Annotations {
			run.Annotations = append(run.Annotations, Annotation{
				Path: a.Path, StartLine: a.StartLine, EndLine: a.EndLine,
				StartColumn: deref(a.StartColumn), EndColumn: deref(a.EndColumn),
				Level: a.Level, Message: a.Message, Title: a.Title, RawDetails: a.RawDetails,
			})
		}
	}
	if in.Actions != nil {
		run.Actions = nil
		for _, a := range *in.Actions {
			run.Actions = append(run.Actions, CheckRunAction(a))
		}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// createCheckRun serves POST /repos/{owner}/{repo}/check-runs.
func createCheckRun(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in checkRunRequest
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	if msg := checkRunRules(&in); msg != "" {
		return c.ruleBroken("%s", msg)
	}
	sha := strings.ToLower(deref(in.HeadSHA))
	if _, ok := e.st.commits[sha]; !ok {
		return errorReply(http.StatusUnprocessableEntity, "No commit found for SHA: "+deref(in.HeadSHA))
	}
	now := e.timestamp()
	e.st.nextCheckRunID++
	run := &CheckRun{
		ID: e.st.nextCheckRunID, Repo: r.fullName(), HeadSHA: sha, Status: "queued", StartedAt: now,
		AppID: e.appID, CheckSuiteID: e.suiteLocked(r, sha).id,
	}
	in.apply(run, now)
	if msg := runRules(run); msg != "" {
		return c.ruleBroken("%s", msg)
	}
	e.st.checkRuns[run.ID] = run
	e.changedLocked()
	return jsonReply(http.StatusCreated, e.checkRunJSON(run, false))
}

// checkRunForCallLocked finds the check run {check_run_id} of the request's
// repository.
func (e *Emulator) checkRunForCallLocked(c *call, write bool) (*CheckRun, reply, bool) {
	r, rep, ok := e.repoForCallLocked(c, write)
	if !ok {
		return nil, rep, false
	}
	id, _ := strconv.ParseInt(c.param("check_run_id"), 10, 64)
	run, ok := e.st.checkRuns[id]
	if !ok || run.Repo != r.fullName() {
		return nil, notFound(), false
	}
	return run, reply{}, true
}

// updateCheckRun serves PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}.
func updateCheckRun(e *Emulator, c *call) reply {
	run, rep, ok := e.checkRunForCallLocked(c, true)
	if !ok {
		return rep
	}
	var in checkRunRequest
	if err := json.Unmarshal(c.body, &in); err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	if msg := checkRunRules(&in); msg != "" {
		return c.ruleBroken("%s", msg)
	}
	next := run.clone()
	in.apply(&next, e.timestamp())
	if msg := runRules(&next); msg != "" {
		return c.ruleBroken("%s", msg)
	}
	*run = next
	run.Updates++
	e.changedLocked()
	return jsonReply(http.StatusOK, e.checkRunJSON(run, false))
}

// getCheckRun serves GET /repos/{owner}/{repo}/check-runs/{check_run_id}.
func getCheckRun(e *Emulator, c *call) reply {
	run, rep, ok := e.checkRunForCallLocked(c, false)
	if !ok {
		return rep
	}
	return jsonReply(http.StatusOK, e.checkRunJSON(run, false))
}

// listAnnotations serves GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations.
func listAnnotations(e *Emulator, c *call) reply {
	run, rep, ok := e.checkRunForCallLocked(c, false)
	if !ok {
		return rep
	}
	out, link := pageOf(e, c, run.Annotations, func(a Annotation) obj { return e.annotationJSON(run, a) })
	return reply{status: http.StatusOK, body: out, header: link}
}

// listCheckRunsForRef serves GET /repos/{owner}/{repo}/commits/{ref}/check-runs.
func listCheckRunsForRef(e *Emulator, c *call) reply {
	r, rep, ok := e.repoForCallLocked(c, false)
	if !ok {
		return rep
	}
	cm, ok := e.resolveLocked(r, c.param("ref"))
	if !ok {
		return errorReply(http.StatusUnprocessableEntity, "No commit found for SHA: "+c.param("ref"))
	}
	name, status, appID := c.query("check_name"), c.query("status"), c.query("app_id")
	latest := map[string]int64{} // name -> newest ID
	var runs []*CheckRun
	for _, run := range e.checkRunsLocked(r, cm.sha) {
		if (name != "" && run.Name != name) || (status != "" && run.Status != status) ||
			(appID != "" && appID != strconv.FormatInt(run.AppID, 10)) {
			continue
		}
		runs = append(runs, run)
		latest[run.Name] = max(latest[run.Name], run.ID)
	}
	if c.query("filter") != "all" {
		runs = slices.DeleteFunc(runs, func(run *CheckRun) bool { return latest[run.Name] != run.ID })
	}
	slices.SortFunc(runs, func(a, b *CheckRun) int { return cmp.Compare(b.ID, a.ID) })
	out, link := pageOf(e, c, runs, func(run *CheckRun) obj { return e.checkRunJSON(run, false) })
	return reply{status: http.StatusOK, body: obj{"total_count": len(runs), "check_runs": out}, header: link}
}
