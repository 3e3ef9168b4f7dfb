package ghemu

import (
	"encoding/json"
	"fmt"
	"maps"
)

// outgoing is a webhook built under the lock, to be sent after releasing it.
type outgoing struct {
	event, action, sender string
	body                  []byte
	skip                  string // why it is not sent; "" to send
}

// eventLocked builds a payload about r for the app's installation on r's
// owner. Deliveries to a GitHub App always carry installation.id.
func (e *Emulator) eventLocked(r *repo, event, action, sender string, fields obj) outgoing {
	out := outgoing{event: event, action: action, sender: sender}
	e.knowLocked(sender)
	inst := e.installationLocked(r)
	if inst == nil {
		out.skip = fmt.Sprintf("the app is not installed on %s (AddInstallation)", r.owner)
		return out
	}
	payload := obj{
		"action": action, "repository": e.repoJSON(r, false), "sender": e.userJSON(sender),
		"installation": installationJSON(inst.ID),
	}
	maps.Copy(payload, fields)
	body, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("ghemu: marshal %s payload: %v", event, err))
	}
	out.body = body
	return out
}

func (e *Emulator) pullRequestEventLocked(base *repo, p *pull, action, sender string, extra obj) outgoing {
	fields := obj{"number": p.number, "pull_request": e.pullJSON(base, p)}
	maps.Copy(fields, extra)
	return e.eventLocked(base, "pull_request", action, sender, fields)
}

func (e *Emulator) checkSuiteEventLocked(s *checkSuite, action, sender string) outgoing {
	return e.eventLocked(s.repo, "check_suite", action, sender, obj{"check_suite": e.checkSuiteJSON(s)})
}

func (e *Emulator) checkRunEventLocked(c *CheckRun, action, sender string, extra obj) outgoing {
	r := e.st.repos[repoKey(c.Repo)]
	fields := obj{"check_run": e.checkRunJSON(c, true)}
	maps.Copy(fields, extra)
	return e.eventLocked(r, "check_run", action, sender, fields)
}

// deliverAll sends webhooks in order. Failures are recorded in Deliveries
// and logged: helpers act like GitHub, which does not care either.
func (e *Emulator) deliverAll(out []outgoing) {
	for _, o := range out {
		if o.skip != "" {
			e.log.Warn("webhook not sent", "event", o.event, "action", o.action, "reason", o.skip)
			continue
		}
		_, _, _ = e.deliver(o.event, o.action, o.body, "", false)
	}
}
