package app

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the bot's Prometheus series. One value per server, registered on
// its own registry so that tests and the sandbox can run several servers.
type Metrics struct {
	Registry *prometheus.Registry

	// Intake.
	DeliveriesReceived  prometheus.Counter     // stored and acknowledged with 202
	DeliveriesDuplicate prometheus.Counter     // GUID already stored, 200
	DeliveriesRejected  *prometheus.CounterVec // reason: signature, malformed, too_large, method, store
	inbox               inboxCollector         // depth and oldest age, read once per scrape

	// Dispatcher.
	HandlerOutcomes *prometheus.CounterVec   // event, outcome: done, retry, failed, ignored
	HandlerDuration *prometheus.HistogramVec // event

	// GitHub client.
	GitHubRequests *prometheus.CounterVec // method, status ("error" when no response)
}

// InboxStats reports the inbox's depth and the age in seconds of its oldest
// unfinished delivery; the gauges call it at scrape time.
type InboxStats func() (depth int, oldestAgeSeconds float64)

// NewMetrics creates and registers every series.
func NewMetrics(stats InboxStats) *Metrics {
	if stats == nil {
		stats = func() (int, float64) { return 0, 0 }
	}
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		DeliveriesReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fivesafes_deliveries_received_total",
			Help: "Webhook deliveries stored durably and acknowledged.",
		}),
		DeliveriesDuplicate: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fivesafes_deliveries_duplicate_total",
			Help: "Webhook deliveries whose GUID was already stored.",
		}),
		DeliveriesRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fivesafes_deliveries_rejected_total",
			Help: "Webhook deliveries refused, by reason.",
		}, []string{"reason"}),
		inbox: inboxCollector{
			stats: stats,
			depth: prometheus.NewDesc("fivesafes_inbox_depth", "Deliveries stored but not yet handled.", nil, nil),
			age:   prometheus.NewDesc("fivesafes_inbox_oldest_age_seconds", "Age of the oldest delivery not yet handled.", nil, nil),
		},
		HandlerOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fivesafes_handler_outcomes_total",
			Help: "Handled deliveries by event and outcome.",
		}, []string{"event", "outcome"}),
		HandlerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fivesafes_handler_duration_seconds",
			Help:    "Time to handle one delivery.",
			Buckets: prometheus.DefBuckets,
		}, []string{"event"}),
		GitHubRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fivesafes_github_requests_total",
			Help: "Requests to the GitHub API by method and status.",
		}, []string{"method", "status"}),
	}
	reg.MustRegister(m.DeliveriesReceived, m.DeliveriesDuplicate, m.DeliveriesRejected,
		m.inbox, m.HandlerOutcomes, m.HandlerDuration, m.GitHubRequests)
	return m
}

// inboxCollector reports the inbox gauges from one Stats query per scrape.
type inboxCollector struct {
	stats      InboxStats
	depth, age *prometheus.Desc
}

func (c inboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.age }

func (c inboxCollector) Collect(ch chan<- prometheus.Metric) {
	depth, age := c.stats()
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
