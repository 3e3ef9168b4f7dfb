package ghemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// LabelPR is user adding label to pull request number: GitHub sends
// pull_request labeled with the label. Adding a label that is there
// already changes and sends nothing.
func (r *Repo) LabelPR(number int, label, user string) {
	e := r.e
	e.act(func() []outgoing {
		rp, p := r.pullLocked(number)
		if slices.Contains(p.labels, label) {
			return nil
		}
		return e.labelLocked(rp, &p.issue, p, label, user)
	})
}

// UnlabelPR is user removing label from pull request number: GitHub sends
// pull_request unlabeled. Removing a label that is not there changes and
// sends nothing.
func (r *Repo) UnlabelPR(number int, label, user string) {
	e := r.e
	e.act(func() []outgoing {
		rp, p := r.pullLocked(number)
		if !slices.Contains(p.labels, label) {
			return nil
		}
		return e.unlabelLocked(rp, &p.issue, p, label, user)
	})
}

// Labels returns the labels of issue or pull request number, in the order
// they were added.
func (r *Repo) Labels(number int) []string {
	e := r.e
	e.mu.Lock()
	defer e.mu.Unlock()
	is, _ := threadLocked(r.repoLocked(), number)
	if is == nil {
		return nil
	}
	return slices.Clone(is.labels)
}

// labelLocked adds label and returns what GitHub sends for it: for a pull
// request pull_request labeled; for a plain issue nothing the app
// subscribes to.
func (e *Emulator) labelLocked(r *repo, is *issue, p *pull, label, sender string) []outgoing {
	e.knowLocked(sender)
	is.labels = append(is.labels, label)
	is.updatedAt = e.timestamp()
	if p == nil {
		return nil
	}
	return []outgoing{e.pullRequestEventLocked(r, p, "labeled", sender, obj{"label": e.labelJSON(r, label)})}
}

func (e *Emulator) unlabelLocked(r *repo, is *issue, p *pull, label, sender string) []outgoing {
	e.knowLocked(sender)
	is.labels = slices.DeleteFunc(is.labels, func(l string) bool { return l == label })
	is.updatedAt = e.timestamp()
	if p == nil {
		return nil
	}
	return []outgoing{e.pullRequestEventLocked(r, p, "unlabeled", sender, obj{"label": e.labelJSON(r, label)})}
}

func (e *Emulator) labelsJSON(r *repo, is *issue) []obj {
	out := []obj{}
	for _, l := range is.labels {
		out = append(out, e.labelJSON(r, l))
	}
	return out
}

// threadForCallLocked finds {issue_number} of the request's repository.
func (e *Emulator) threadForCallLocked(c *call, write bool) (*repo, *issue, *pull, reply, bool) {
	r, rep, ok := e.repoForCallLocked(c, write)
	if !ok {
		return nil, nil, nil, rep, false
	}
	n, _ := strconv.Atoi(c.param("issue_number"))
	is, p := threadLocked(r, n)
	if is == nil {
		return nil, nil, nil, notFound(), false
	}
	return r, is, p, reply{}, true
}

// listIssueLabels serves GET /repos/{owner}/{repo}/issues/{issue_number}/labels.
func listIssueLabels(e *Emulator, c *call) reply {
	r, is, _, rep, ok := e.threadForCallLocked(c, false)
	if !ok {
		return rep
	}
	all := e.labelsJSON(r, is)
	p := e.paginate(c, len(all))
	return reply{status: http.StatusOK, body: all[p.lo:p.hi], header: p.header()}
}

// addIssueLabels serves POST /repos/{owner}/{repo}/issues/{issue_number}/labels.
// The body is {"labels": [...]} or, as go-github sends it, a bare array;
// a label is a name or {"name": ...}.
func addIssueLabels(e *Emulator, c *call) reply {
	r, is, p, rep, ok := e.threadForCallLocked(c, true)
	if !ok {
		return rep
	}
	names, err := labelNames(c.body)
	if err != nil {
		return errorReply(http.StatusBadRequest, "Problems parsing JSON")
	}
	var events []outgoing
	for _, name := range names {
		if name == "" {
			return c.ruleBroken("a label name cannot be blank")
		}
		if !slices.Contains(is.labels, name) {
			events = append(events, e.labelLocked(r, is, p, name, AppLogin)...)
		}
	}
	e.changedLocked()
	return reply{status: http.StatusOK, body: e.labelsJSON(r, is), events: events}
}

func labelNames(body []byte) ([]string, error) {
	var wrapped struct {
		Labels []json.RawMessage `json:"labels"`
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		if err := json.Unmarshal(body, &wrapped); err != nil {
			return nil, err
		}
		items = wrapped.Labels
	}
	var names []string
	for _, raw := range items {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			var o struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(raw, &o); err != nil {
				return nil, err
			}
			name = o.Name
		}
		names = append(names, name)
	}
	return names, nil
}

// removeIssueLabel serves DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}.
func removeIssueLabel(e *Emulator, c *call) reply {
	r, is, p, rep, ok := e.threadForCallLocked(c, true)
	if !ok {
		return rep
	}
	name := c.param("name")
	if !slices.Contains(is.labels, name) {
		return errorReply(http.StatusNotFound, "Label does not exist")
	}
	events := e.unlabelLocked(r, is, p, name, AppLogin)
	e.changedLocked()
	return reply{status: http.StatusOK, body: e.labelsJSON(r, is), events: events}
}
