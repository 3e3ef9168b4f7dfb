package agentapi

import (
	"encoding/json"

	"github.com/fivesafes/fivesafes/runner/jobs"
	"github.com/fivesafes/fivesafes/runner/protocol"
)

// The wire types are the protocol package's, shared with the agent.
type (
	TaskJSON        = protocol.Task
	JobJSON         = protocol.Job
	OutputGroupJSON = protocol.OutputGroup
	OutputJSON      = protocol.Output
	UpdateJSON      = protocol.Update
	AnswerJSON      = protocol.Answer
)

func taskJSON(c jobs.Claim, lease int64) TaskJSON {
	t := TaskJSON{ID: c.Task.ID, Kind: string(c.Task.Kind), Attempt: c.Task.Attempt, LeaseSeconds: lease}
	if c.Task.JobID == "" {
		if len(c.Task.Payload) > 0 {
			var rt protocol.ReleaseTask
			if json.Unmarshal(c.Task.Payload, &rt) == nil {
				t.Release = &rt
			}
		}
		return t
	}
	j := c.Job
	outs := []OutputGroupJSON{}
	for _, g := range j.Spec.Outputs {
		og := OutputGroupJSON{Level: g.Level, Outputs: []OutputJSON{}}
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
	t.Job = JobJSON{
		ID: j.ID, Action: j.Action, Workspace: j.Workspace, Repo: c.Repo, SHA: c.SHA, Image: j.Spec.Image,
		Args: args, Outputs: outs, Config: j.Spec.Config, TimeoutSeconds: int64(j.Timeout.Seconds()), Needs: needs,
	}
	return t
}
