package agentapi

import (
	"encoding/json"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/outputs"
)

// TaskJSON is a claimed task as the agent receives it.
type TaskJSON struct {
	ID           string   `json:"id"`
	Kind         string   `json:"kind"`
	Attempt      int      `json:"attempt"`
	LeaseSeconds int64    `json:"lease_seconds"`
	Job          *JobJSON `json:"job,omitempty"`
}

// JobJSON is what the agent needs to run a job.
type JobJSON struct {
	ID             string            `json:"id"`
	Action         string            `json:"action"`
	Workspace      string            `json:"workspace"`
	Repo           string            `json:"repo"`
	SHA            string            `json:"sha"`
	Image          string            `json:"image"`
	Args           []string          `json:"args"`
	Outputs        []OutputGroupJSON `json:"outputs"`
	Config         json.RawMessage   `json:"config,omitempty"`
	TimeoutSeconds int64             `json:"timeout_seconds"`
	Needs          []string          `json:"needs"`
}

// OutputGroupJSON is the outputs of one privacy level.
type OutputGroupJSON struct {
	Level   string       `json:"level"`
	Outputs []OutputJSON `json:"outputs"`
}

// OutputJSON is one declared output: its name and path pattern.
type OutputJSON struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// UpdateJSON is what an agent reports about a task.
type UpdateJSON struct {
	Attempt    int             `json:"attempt"`
	Seq        int64           `json:"seq"`
	Stage      string          `json:"stage,omitempty"`
	StatusCode string          `json:"status_code,omitempty"`
	Message    string          `json:"message,omitempty"`
	ExitCode   *int            `json:"exit_code,omitempty"`
	Results    *outputs.Report `json:"results,omitempty"`
}

// AnswerJSON is the answer to an update.
type AnswerJSON struct {
	Cancel bool `json:"cancel"`
}

func taskJSON(c jobs.Claim, lease int64) TaskJSON {
	t := TaskJSON{ID: c.Task.ID, Kind: string(c.Task.Kind), Attempt: c.Task.Attempt, LeaseSeconds: lease}
	if c.Task.JobID == "" {
		return t
	}
	j := c.Job
	outs := []OutputGroupJSON{}
	for _, g := range j.Spec.Outputs {
		og := OutputGroupJSON{Level: string(g.Level), Outputs: []OutputJSON{}}
		for _, o := range g.Outputs {
			og.Outputs = append(og.Outputs, OutputJSON{Name: o.Name, Path: o.Path})
		}
		outs = append(outs, og)
	}
	args := j.Spec.Args
	if args == nil {
		args = []string{}
	}
	needs := j.Needs
	if needs == nil {
		needs = []string{}
	}
	t.Job = &JobJSON{
		ID: j.ID, Action: j.Action, Workspace: j.Workspace, Repo: c.Repo, SHA: c.SHA, Image: j.Spec.Image,
		Args: args, Outputs: outs, Config: j.Spec.Config, TimeoutSeconds: int64(j.Timeout.Seconds()), Needs: needs,
	}
	return t
}
