package checks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fivesafes/fivesafes/internal/logging"
)

// CheckName is the name of the check run on every commit.
const CheckName = "fivesafes / project.yaml"

// PipelinePath is where a study keeps its pipeline.
const PipelinePath = "project.yaml"

// MaxFileBytes caps what the bot reads of project.yaml. The largest real
// study file seen is about 1 MB; anything far bigger is a mistake or an attack.
const MaxFileBytes = 4 << 20

// annotationsPerRequest is GitHub's limit on annotations in one create or update.
const annotationsPerRequest = 50

// Progress is how far one check run got, saved after every request to GitHub
// so that a retry resumes where it stopped and never repeats an annotation batch.
type Progress struct {
	CheckRunID  int64
	BatchesSent int
	Completed   bool
}

// Ledger remembers Progress by key. The store implements it.
type Ledger interface {
	Load(ctx context.Context, key string) (Progress, bool, error)
	Save(ctx context.Context, key string, p Progress) error
}

// Service runs the project.yaml check for a commit.
type Service struct {
	gh     GitHub
	ledger Ledger
	now    func() time.Time
	locks  keyedMutex
}

// NewService returns a Service that talks to GitHub through gh.
func NewService(gh GitHub, ledger Ledger, opts ...ServiceOption) *Service {
	s := &Service{gh: gh, ledger: ledger, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithClock sets the clock used for started/completed timestamps.
func WithClock(now func() time.Time) ServiceOption { return func(s *Service) { s.now = now } }

// Request says which commit to check. Attempt distinguishes an explicit
// re-run (a new check run) from the automatic check of a commit; it is empty
// for the latter and the triggering delivery's ID for a re-run, so that a
// redelivered re-run is still one check run.
type Request struct {
	Repo    Repo
	SHA     string
	Attempt string
}

func (r Request) key() string {
	k := r.Repo.FullName() + "@" + r.SHA
	if r.Attempt != "" {
		k += "#" + r.Attempt
	}
	return k
}

func (r Request) externalID() string {
	id := "project.yaml@" + r.SHA
	if r.Attempt != "" {
		id += "#" + r.Attempt
	}
	return id
}

// Check creates (or resumes) the check run for req and completes it with the
// verdict on project.yaml at that commit. It is idempotent: a check that was
// completed before is left alone, and one that stopped half way resumes.
func (s *Service) Check(ctx context.Context, req Request) error {
	key := req.key()
	unlock := s.locks.lock(key)
	defer unlock()
	ctx = logging.Attrs(ctx, logging.KeyRepo, req.Repo.FullName(), logging.KeySHA, req.SHA)
	log := logging.From(ctx)

	prog, err := s.start(ctx, req)
	if err != nil {
		return err
	}
	if prog.Completed {
		log.Info("check run already completed", logging.KeyCheckRun, prog.CheckRunID)
		return nil
	}
	report, err := s.report(ctx, req)
	if err != nil {
		return err
	}
	batches := batchAnnotations(report.Annotations)
	for i := prog.BatchesSent; i < len(batches); i++ {
		last := i == len(batches)-1
		upd := CheckRunUpdate{
			Status: "in_progress",
			Output: &CheckRunOutput{Title: report.Title, Summary: report.Summary, Text: report.Text, Annotations: batches[i]},
		}
		if last {
			upd.Status, upd.Conclusion, upd.CompletedAt = "completed", report.Conclusion, s.now()
		}
		if err := s.gh.UpdateCheckRun(ctx, req.Repo, prog.CheckRunID, upd); err != nil {
			return fmt.Errorf("update check run %d (batch %d of %d): %w", prog.CheckRunID, i+1, len(batches), err)
		}
		prog.BatchesSent, prog.Completed = i+1, last
		if err := s.ledger.Save(ctx, key, prog); err != nil {
			return fmt.Errorf("save check run progress: %w", err)
		}
	}
	log.Info("check run completed", logging.KeyCheckRun, prog.CheckRunID,
		"conclusion", report.Conclusion, "annotations", len(report.Annotations))
	return nil
}

// start finds the check run this request already has — in the ledger, or on
// GitHub when a create succeeded but its answer was lost — or creates it.
func (s *Service) start(ctx context.Context, req Request) (Progress, error) {
	key := req.key()
	prog, ok, err := s.ledger.Load(ctx, key)
	if err != nil {
		return Progress{}, fmt.Errorf("load check run progress: %w", err)
	}
	if ok {
		return prog, nil
	}
	ref, found, err := s.gh.FindCheckRun(ctx, req.Repo, req.SHA, CheckName, req.externalID())
	if err != nil {
		return Progress{}, fmt.Errorf("look for an existing check run: %w", err)
	}
	if found {
		// Updates are only sent after the ledger knows the run, so a run the
		// ledger lacks has no annotations yet, unless another process completed it.
		prog = Progress{CheckRunID: ref.ID, Completed: ref.Status == "completed"}
	} else {
		id, err := s.gh.CreateCheckRun(ctx, req.Repo, NewCheckRun{
			Name: CheckName, HeadSHA: req.SHA, ExternalID: req.externalID(),
			Status: "in_progress", StartedAt: s.now(),
		})
		if err != nil {
			return Progress{}, fmt.Errorf("create check run: %w", err)
		}
		prog = Progress{CheckRunID: id}
	}
	if err := s.ledger.Save(ctx, key, prog); err != nil {
		return Progress{}, fmt.Errorf("save check run progress: %w", err)
	}
	return prog, nil
}

// report reads and validates project.yaml. A missing or oversized file is a
// verdict, not an error; anything else (GitHub down) is returned for a retry.
func (s *Service) report(ctx context.Context, req Request) (Report, error) {
	src, err := s.gh.FileAt(ctx, req.Repo, req.SHA, PipelinePath, MaxFileBytes)
	switch {
	case errors.Is(err, ErrNotFound):
		return Unreadable(PipelinePath, "There is no project.yaml at the root of this commit. "+
			"Add one that describes the study's actions; see https://docs.opensafely.org/actions-pipelines/"), nil
	case errors.Is(err, ErrTooLarge):
		return Unreadable(PipelinePath, fmt.Sprintf("project.yaml is larger than %d MiB, so it was not read. "+
			"A pipeline file is normally a few kilobytes: check that the right file was committed.", MaxFileBytes>>20)), nil
	case err != nil:
		return Report{}, fmt.Errorf("read %s: %w", PipelinePath, err)
	}
	return Render(PipelinePath, Validate(src)), nil
}

// batchAnnotations splits annotations into GitHub-sized batches; there is
// always at least one batch, which carries the final update.
func batchAnnotations(all []Annotation) [][]Annotation {
	batches := [][]Annotation{nil}
	for i, a := range all {
		if i > 0 && i%annotationsPerRequest == 0 {
			batches = append(batches, nil)
		}
		batches[len(batches)-1] = append(batches[len(batches)-1], a)
	}
	return batches
}

// keyedMutex serialises work on one key (one commit's check run), so that two
// events for the same push — pull_request and check_suite — make one run.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyLock)
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
