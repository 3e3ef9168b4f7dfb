package agentapi

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus series; registered only with WithRegisterer.
type metrics struct {
	claims       *prometheus.CounterVec // backend, result: task, empty
	updates      *prometheus.CounterVec // backend, status (HTTP)
	unauthorized prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		claims: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fivesafes_agent_claims_total",
			Help: "Agent claims answered, by backend and result (task, empty).",
		}, []string{"backend", "result"}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fivesafes_agent_updates_total",
			Help: "Agent task updates answered, by backend and HTTP status.",
		}, []string{"backend", "status"}),
		unauthorized: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fivesafes_agent_unauthorized_total",
			Help: "Agent requests refused for an unknown or missing token.",
		}),
	}
}

// WithRegisterer registers the API's metrics with reg.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(s *Server) {
		if reg != nil {
			s.reg = reg
		}
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.claims, m.updates, m.unauthorized} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func statusLabel(code int) string { return strconv.Itoa(code) }
