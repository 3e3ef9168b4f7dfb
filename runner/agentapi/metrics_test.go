package agentapi_test

import (
	"testing"

	"github.com/fivesafes/fivesafes/runner/agentapi"
	"github.com/fivesafes/fivesafes/runner/jobs/jobstest"
	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsCountClaimsUpdatesAndRefusals(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, nil, agentapi.WithRegisterer(reg))
	jobstest.Run(t, e.st, nil, "tpp", "c1", "generate_dataset")
	task := e.mustClaim(tppToken)
	e.claim(tppToken, "0s")
	e.update(tppToken, task.ID, map[string]any{"attempt": 1, "seq": 1, "stage": "executing"})
	e.update(tppToken, task.ID, map[string]any{"attempt": 9, "seq": 2, "stage": "executing"})
	e.do("POST", "/agent/v1/tasks/claim?wait=0s", "bad", nil)
	want := map[string]float64{
		"fivesafes_agent_claims_total":       2,
		"fivesafes_agent_updates_total":      2,
		"fivesafes_agent_unauthorized_total": 1,
	}
	m, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]float64{}
	for _, f := range m {
		for _, s := range f.GetMetric() {
			sum[f.GetName()] += s.GetCounter().GetValue()
		}
	}
	for name, n := range want {
		if sum[name] != n {
			t.Errorf("%s = %v, want %v", name, sum[name], n)
		}
	}
	if _, err := agentapi.New(e.st, nil, nil, agentapi.WithRegisterer(reg)); err == nil {
		t.Fatal("registering twice on one registry did not fail")
	}
}
