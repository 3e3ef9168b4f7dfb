package app_test

import (
	"testing"

	"github.com/fivesafes/fivesafes/app/sandbox"
)

// testutilGauge reads one unlabelled series (gauge or counter) from the
// running bot's registry.
func testutilGauge(t *testing.T, s *sandbox.Stack, name string) float64 {
	t.Helper()
	families, err := s.Server().Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range f.GetMetric() {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
		return sum
	}
	return 0
}
