package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fivesafes/fivesafes/app/commands"
	"github.com/fivesafes/fivesafes/app/runview"
	"github.com/fivesafes/fivesafes/checks"
	"github.com/fivesafes/fivesafes/internal/logging"
	"github.com/fivesafes/fivesafes/internal/markdown"
	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/plan"
)

// Runs decides on the runs researchers ask for and starts them: admission
// (Admit), the pipeline at the head commit, the plan, and the job request
// in the store, which queues the jobs for the backend's agent. What GitHub
// shows of a run afterwards is the reporter's business.
type Runs struct {
	gh             RunGitHub
	store          *jobs.Store
	policy         RunPolicy
	backends       []string
	defaultBackend string
	now            func() time.Time
}

// NewRuns returns the run service. backends are the configured backend
// names; defaultBackend is used without --backend.
func NewRuns(gh RunGitHub, st *jobs.Store, policy RunPolicy, backends []string, defaultBackend string) *Runs {
	return &Runs{gh: gh, store: st, policy: policy, backends: backends, defaultBackend: defaultBackend, now: time.Now}
}

// RunAsk is one request to run: a /run line or the trigger label.
type RunAsk struct {
	Repo      checks.Repo
	PR        int
	Requester string
	// Trigger is what asked, unique per request: "comment/ID/LINE" or
	// "label/DELIVERY". It makes the request ID, so a redelivery finds the
	// request it made before.
	Trigger string
	Run     commands.Run
}

// RunOutcome is what became of an ask.
type RunOutcome struct {
	Verdict Verdict
	Request jobs.Request // the request stored, if any
	// Reply is Markdown for the researcher, "" when the check run says it all.
	Reply string
}

// runAllAction is what a request records for `all`, as job-runner names it.
const runAllAction = "run_all"

// Start decides on an ask and, if admitted, plans it and creates its jobs;
// a requester without the permission gets a held request instead. Errors are
// GitHub's or the store's; every refusal is an outcome with its reasons.
func (r *Runs) Start(ctx context.Context, ask RunAsk) (RunOutcome, error) {
	id := jobs.RequestID(ask.Repo.FullName(), ask.PR, ask.Trigger)
	if old, err := r.store.Request(ctx, id); err == nil {
		return outcomeOf(old), nil // redelivered: decided before
	} else if !errors.Is(err, jobs.ErrNotFound) {
		return RunOutcome{}, err
	}
	// Reads that do not depend on each other go out together: against
	// GitHub each costs a round trip, and they stand between /run and the
	// agent holding the task.
	var pr PullRequest
	var role string
	err := concurrently(
		func() (err error) { pr, err = r.gh.PullRequest(ctx, ask.Repo, ask.PR); return err },
		func() (err error) { role, err = r.gh.Permission(ctx, ask.Repo, ask.Requester); return err })
	if err != nil {
		return RunOutcome{}, err
	}
	ctx = logging.Attrs(ctx, logging.KeySHA, pr.HeadSHA)
	req := jobs.Request{
		ID: id, Repo: ask.Repo.FullName(), InstallationID: ask.Repo.InstallationID, PR: ask.PR,
		Workspace: jobs.Workspace(ask.Repo.FullName(), pr.HeadRef), HeadSHA: pr.HeadSHA,
		Requester: ask.Requester, Actions: requestedActions(ask.Run), Force: ask.Run.Force,
	}
	refuse := func(reasons ...string) (RunOutcome, error) { return r.refuse(ctx, req, reasons) }

	if req.Backend, err = r.backend(ask.Run.Backend); err != nil {
		return refuse(err.Error())
	}
	// The tree is wasted only when the run is refused or held.
	var pipeline *checks.Pipeline
	var problem string
	var files commitTree
	err = concurrently(
		func() (err error) { pipeline, problem, err = r.pipeline(ctx, ask.Repo, pr.HeadSHA); return err },
		func() (err error) { files, err = r.tree(ctx, ask.Repo, pr.HeadSHA); return err })
	if err != nil {
		return RunOutcome{}, err
	}
	if problem != "" {
		return refuse(problem)
	}
	if problem := unknownActions(pipeline, ask.Run.Actions); problem != "" {
		return refuse(problem)
	}
	facts, err := r.facts(ctx, ask.Repo, pr, ask.Requester, role)
	if err != nil {
		return RunOutcome{}, err
	}
	adm := Admit(r.policy, facts)
	switch adm.Verdict {
	case Refused:
		return refuse(adm.Reasons...)
	case Held:
		held, err := r.store.HoldRequest(ctx, req, strings.Join(adm.Reasons, " "), r.now())
		if err != nil {
			return RunOutcome{}, err
		}
		logging.From(ctx).Info("run held for approval", "request", held.ID, "number", held.Number, "requester", ask.Requester)
		return RunOutcome{Verdict: Held, Request: held, Reply: heldReply(held, adm.Reasons)}, nil
	}
	p, steps, err := r.plan(ctx, req, pipeline, files)
	if err != nil {
		return r.planFailed(ctx, req, err)
	}
	if p.NothingToDo() {
		if err := r.store.NothingToRun(ctx, decision(req, p.Summary()), r.now()); err != nil {
			return RunOutcome{}, err
		}
		return RunOutcome{Verdict: Admitted, Reply: nothingToDoReply(steps)}, nil
	}
	req.Plan = steps
	created, err := r.store.CreateRequest(ctx, req, p, pipeline, r.now())
	if err != nil {
		return RunOutcome{}, err
	}
	logging.From(ctx).Info("run requested", "request", created.ID, "number", created.Number, "plan", p.Summary())
	return RunOutcome{Verdict: Admitted, Request: created}, nil
}

// outcomeOf is the outcome of an ask decided before.
func outcomeOf(r jobs.Request) RunOutcome {
	if r.Status == jobs.RequestHeld {
		return RunOutcome{Verdict: Held, Request: r}
	}
	return RunOutcome{Verdict: Admitted, Request: r}
}

func requestedActions(run commands.Run) []string {
	if run.All {
		return []string{runAllAction}
	}
	return run.Actions
}

func (r *Runs) backend(name string) (string, error) {
	if len(r.backends) == 0 {
		return "", errors.New("No backend is configured on this bot, so nothing can run yet; an operator must add one to `backends` in fivesafes.yml.")
	}
	if name == "" {
		return r.defaultBackend, nil
	}
	if slices.Contains(r.backends, name) {
		return name, nil
	}
	msg := fmt.Sprintf("There is no backend %s (backends: %s).", markdown.Code(name, valueShown), codes(r.backends))
	if s := commands.Suggest(name, r.backends); len(s) > 0 {
		msg += fmt.Sprintf(" Did you mean %s?", codes(s))
	}
	return "", errors.New(msg)
}

// pipeline reads and checks project.yaml at sha. problem says why it cannot
// be run from; err is for failures that may pass.
func (r *Runs) pipeline(ctx context.Context, repo checks.Repo, sha string) (p *checks.Pipeline, problem string, err error) {
	data, err := r.gh.FileAt(ctx, repo, sha, checks.PipelinePath, checks.MaxFileBytes)
	switch {
	case errors.Is(err, checks.ErrNotFound):
		return nil, fmt.Sprintf("There is no `project.yaml` at commit %s.", markdown.Code(shortSHA(sha), valueShown)), nil
	case errors.Is(err, checks.ErrTooLarge):
		return nil, fmt.Sprintf("`project.yaml` at commit %s is larger than the %d MiB a pipeline may be.", markdown.Code(shortSHA(sha), valueShown), checks.MaxFileBytes>>20), nil
	case err != nil:
		return nil, "", err
	}
	res := checks.Validate(data)
	if !res.Valid || res.Pipeline == nil {
		first := "it cannot be read"
		if errs := res.Errors(); len(errs) > 0 {
			first = errs[0].Message
			if errs[0].Line > 0 {
				first = fmt.Sprintf("line %d: %s", errs[0].Line, first)
			}
		}
		return nil, fmt.Sprintf("`project.yaml` at commit %s is not valid (%s). The %s check lists every problem on its line.",
			markdown.Code(shortSHA(sha), valueShown), first, markdown.Code(checks.CheckName, valueShown)), nil
	}
	if cycle := plan.DetectCycle(res.Pipeline); cycle != nil {
		return nil, (&plan.CycleError{Cycle: cycle}).Error() + ".", nil
	}
	return res.Pipeline, "", nil
}

// unknownActions names the requested actions project.yaml lacks, with
// what each was probably meant to be.
func unknownActions(p *checks.Pipeline, asked []string) string {
	known := make([]string, len(p.Actions))
	for i, a := range p.Actions {
		known[i] = a.Name
	}
	var lines []string
	for _, a := range asked {
		if a == runAllAction || slices.Contains(known, a) {
			continue
		}
		l := fmt.Sprintf("`project.yaml` has no action %s.", markdown.Code(a, valueShown))
		if s := commands.Suggest(a, known); len(s) > 0 {
			l += fmt.Sprintf(" Did you mean %s?", codes(s))
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, " ") + fmt.Sprintf(" Its actions: %s.", codes(known))
}

// facts gathers what admission needs, given the requester's role; the
// requirements are read only when the operator asked for them.
func (r *Runs) facts(ctx context.Context, repo checks.Repo, pr PullRequest, requester, role string) (RunFacts, error) {
	f := RunFacts{Requester: requester, Role: role, PR: pr}
	var err error
	if slices.Contains(r.policy.Require, RequireApproved) {
		reviews, err := r.gh.Reviews(ctx, repo, pr.Number)
		if err != nil {
			return f, err
		}
		roleOf := map[string]string{}
		for _, u := range Approvers(reviews, pr.HeadSHA, pr.Author) {
			if roleOf[u], err = r.gh.Permission(ctx, repo, u); err != nil {
				return f, err
			}
		}
		f.ApprovedOnHead = ApprovedOnHead(reviews, pr.HeadSHA, pr.Author, roleOf)
	}
	if slices.Contains(r.policy.Require, RequireMergeable) {
		if f.Mergeable, f.MergeableKnown, err = r.gh.Mergeable(ctx, repo, pr.Number); err != nil {
			return f, err
		}
	}
	return f, nil
}

// commitTree is a commit's files: path -> Git blob SHA.
type commitTree struct {
	files     map[string]string
	truncated bool // GitHub did not list them all
}

func (r *Runs) tree(ctx context.Context, repo checks.Repo, sha string) (commitTree, error) {
	files, truncated, err := r.gh.Tree(ctx, repo, sha)
	return commitTree{files: files, truncated: truncated}, err
}

// plan plans a request at its head commit against the workspace's jobs on
// its backend.
func (r *Runs) plan(ctx context.Context, req jobs.Request, pipeline *checks.Pipeline, tree commitTree) (plan.Plan, []jobs.PlanStep, error) {
	latest, err := r.store.LatestJobs(ctx, req.Workspace, req.Backend)
	if err != nil {
		return plan.Plan{}, nil, err
	}
	force := req.Force
	if tree.truncated {
		// Without every blob SHA a fingerprint could miss a change: reuse nothing.
		logging.From(ctx).Warn("repository tree too large to list whole; running every dependency", "sha", req.HeadSHA)
		force = true
	}
	p, err := plan.Make(plan.Request{Pipeline: pipeline, Actions: req.Actions, Force: force, Files: tree.files, Latest: latest})
	if err != nil {
		return p, nil, err
	}
	return p, jobs.PlanSteps(p, req.ID, latest), nil
}

// concurrently runs fns at once and joins their errors.
func concurrently(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// planFailed refuses a request the planner refused (a cycle, unknown
// actions), and passes other errors on.
func (r *Runs) planFailed(ctx context.Context, req jobs.Request, err error) (RunOutcome, error) {
	var cycle *plan.CycleError
	var unknown *plan.UnknownActionsError
	if errors.As(err, &cycle) || errors.As(err, &unknown) {
		return r.refuse(ctx, req, []string{err.Error() + "."})
	}
	return RunOutcome{}, err
}

func (r *Runs) refuse(ctx context.Context, req jobs.Request, reasons []string) (RunOutcome, error) {
	if err := r.store.Refuse(ctx, decision(req, strings.Join(reasons, " ")), r.now()); err != nil {
		return RunOutcome{}, err
	}
	logging.From(ctx).Info("run refused", "requester", req.Requester, "reasons", reasons)
	return RunOutcome{Verdict: Refused, Reply: "I did not start this run:\n\n" + bullets(reasons)}, nil
}

func decision(req jobs.Request, reason string) jobs.Decision {
	return jobs.Decision{Repo: req.Repo, PR: req.PR, HeadSHA: req.HeadSHA, Actor: req.Requester,
		Actions: req.Actions, Backend: req.Backend, Reason: reason}
}

func heldReply(r jobs.Request, reasons []string) string {
	return fmt.Sprintf("Run #%d is waiting for a maintainer's approval. %s\n\n"+
		"A maintainer can approve it with the **Approve run** button of the %s check run; the approval holds for commit %s only, "+
		"and a push makes it void.\n", r.Number, strings.Join(reasons, " "), markdown.Code(runview.CheckRunName(r), valueShown), markdown.Code(shortSHA(r.HeadSHA), valueShown))
}

func nothingToDoReply(steps []jobs.PlanStep) string {
	var lines []string
	for _, s := range steps {
		lines = append(lines, fmt.Sprintf("%s: %s", markdown.Code(s.Action, valueShown), s.Reason))
	}
	return "Nothing to run: every action asked for is already pending or running.\n\n" + bullets(lines)
}

func bullets(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("- " + l + "\n")
	}
	return b.String()
}

// valueShown is the most runes of a name, a path or a commit that a reply
// shows as code; none reaches it in practice, but a reply must stay short
// whatever a comment asked for.
const valueShown = 200

// codes is words as inline code, separated by commas.
func codes(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = markdown.Code(w, valueShown)
	}
	return strings.Join(out, ", ")
}
