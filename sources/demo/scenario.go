package demo

import (
	"time"
)

// Cycle is the length of one run of the scenario in scenario time; at
// Speed 1 that is wall-clock time. The scenario repeats forever.
const Cycle = 6 * time.Minute

// Phase names, in the order a cycle goes through them.
const (
	PhaseCalm       = "calm"             // only background alerts
	PhaseDBLatency  = "db-latency"       // db-main latency warning
	PhaseDBDown     = "db-down"          // db-main connection pool exhausted (critical)
	PhasePayments   = "payments-failing" // payments errors: pending, then firing
	PhaseCheckout   = "checkout-failing" // checkout critical joins the cascade
	PhaseWeb        = "web-degraded"     // web warning, then critical
	PhaseRecovering = "recovering"       // db-main recovered; the chain resolves in order
	PhaseRecovered  = "recovered"        // the outage has closed; background only
)

// phases is the timeline of one cycle: each phase starts at its offset.
var phases = []struct {
	at   time.Duration
	name string
}{
	{0, PhaseCalm},
	{30 * time.Second, PhaseDBLatency},
	{60 * time.Second, PhaseDBDown},
	{75 * time.Second, PhasePayments},
	{130 * time.Second, PhaseCheckout},
	{160 * time.Second, PhaseWeb},
	{240 * time.Second, PhaseRecovering},
	{300 * time.Second, PhaseRecovered},
}

// Opening is where in its cycle `sitroom --demo` starts (Options.Skip):
// the moment db-main's connection pool runs out, the cycle's first
// outage. The dashboard's first poll, made at once, finds it firing, so
// the screen opens on db-main down with payments, checkout and web
// downstream of it. What led up to it happened before the start and
// says so: the latency warning has been firing for 30 s. The cascade then
// unfolds as the timeline has it: payments fires 45 s in, checkout 85 s,
// web 140 s; the chain recovers from 180 s and the next cycle's outage
// comes 6 minutes after the first.
const Opening = 60 * time.Second

func phaseAt(offset time.Duration) string {
	name := phases[0].name
	for _, p := range phases {
		if offset >= p.at {
			name = p.name
		}
	}
	return name
}

// window is a stretch of a cycle, [from, to).
type window struct{ from, to time.Duration }

// rule is one simulated alerting rule.
type rule struct {
	name     string
	service  string
	team     string
	instance string
	severity string
	expr     string
	value    float64
	summary  string
	desc     string
	// active lists the windows of the cycle in which the rule's expression
	// is true. An empty list means always (a long-standing alert).
	active []window
	// pendingFor is the rule's `for:`: it is pending this long before firing.
	pendingFor time.Duration
	// silenced alerts are suppressed in the Alertmanagers by demoSilence.
	silenced bool
}

func s(n int) time.Duration { return time.Duration(n) * time.Second }

// rules is the scenario: a database outage cascading db-main → payments →
// checkout → web and back, over background noise (a flapping warning, a
// pending alert that never fires, a silenced alert, a certificate notice
// and a search warning).
var rules = []rule{
	{name: "PostgresLatencyHigh", service: "db-main", team: "team-data", instance: "db-main-0:9187", severity: "warning",
		expr: `histogram_quantile(0.99, rate(pg_query_duration_seconds_bucket{service="db-main"}[5m])) > 0.5`, value: 0.83,
		summary: "db-main p99 query latency above 500ms", desc: "Queries on db-main are slow; connection pool usage is climbing.",
		active: []window{{s(30), s(300)}}},
	{name: "PostgresConnectionPoolExhausted", service: "db-main", team: "team-data", instance: "db-main-0:9187", severity: "critical",
		expr: `pg_pool_in_use{service="db-main"} / pg_pool_size{service="db-main"} >= 1`, value: 1,
		summary: "db-main connection pool exhausted", desc: "All 200 connections of db-main are in use; new queries are refused.",
		active: []window{{s(60), s(240)}}},
	{name: "PaymentsErrorRateHigh", service: "payments", team: "team-payments", instance: "payments-1:8080", severity: "critical",
		expr: `sum(rate(http_requests_total{service="payments",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="payments"}[5m])) > 0.05`, value: 0.37,
		summary: "payments 5xx rate above 5%", desc: "payments cannot reach db-main and fails requests.",
		active: []window{{s(75), s(255)}}, pendingFor: s(30)},
	{name: "PaymentsQueueBacklog", service: "payments", team: "team-payments", instance: "payments-1:8080", severity: "warning",
		expr: `payments_queue_depth > 1000`, value: 1450,
		summary: "payments queue backlog growing", desc: "The settlement queue is backing up.",
		active: []window{{s(90), s(130)}}, pendingFor: s(60)},
	{name: "CheckoutErrorRateHigh", service: "checkout", team: "team-web", instance: "checkout-0:8080", severity: "critical",
		expr: `sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="checkout"}[5m])) > 0.05`, value: 0.22,
		summary: "checkout 5xx rate above 5%", desc: "Checkout fails when payments does.",
		active: []window{{s(130), s(270)}}, pendingFor: s(15)},
	{name: "WebLatencyHigh", service: "web", team: "team-web", instance: "web-2:443", severity: "warning",
		expr: `histogram_quantile(0.95, rate(http_request_duration_seconds_bucket{service="web"}[5m])) > 1`, value: 2.4,
		summary: "web p95 latency above 1s", desc: "Pages that call checkout are slow.",
		active: []window{{s(160), s(285)}}},
	{name: "WebErrorBudgetBurn", service: "web", team: "team-web", instance: "web-2:443", severity: "critical",
		expr: `slo:error_budget_burn_rate1h{service="web"} > 14.4`, value: 19.2,
		summary: "web is burning its error budget 19x too fast", desc: "Checkout pages fail for customers.",
		active: []window{{s(200), s(280)}}},
	{name: "EdgeHighRTT", service: "edge", team: "team-network", instance: "edge-1:9100", severity: "warning",
		expr: `avg(edge_rtt_seconds) > 0.2`, value: 0.26,
		summary: "edge round-trip time above 200ms", desc: "Flapping: the RTT hovers around the threshold.",
		active: []window{{s(100), s(120)}, {s(140), s(160)}, {s(180), s(200)}}},
	{name: "SearchIndexLag", service: "search", team: "team-search", instance: "search-indexer-0:9200", severity: "warning",
		expr: `search_index_lag_seconds > 300`, value: 512,
		summary: "search index is 8 minutes behind", desc: "New products take long to appear in search.",
		active: []window{{s(40), s(330)}}},
	{name: "AuthLoginLatencyHigh", service: "auth", team: "team-identity", instance: "auth-0:8443", severity: "warning",
		expr: `histogram_quantile(0.99, rate(login_duration_seconds_bucket[5m])) > 2`, value: 2.7,
		summary: "auth login p99 above 2s", desc: "Known during the key rotation; silenced.",
		silenced: true},
	{name: "CertificateExpiringSoon", service: "edge", team: "team-network", instance: "edge-1:9100", severity: "info",
		expr: `probe_ssl_earliest_cert_expiry - time() < 86400 * 14`, value: 9.5 * 86400,
		summary: "TLS certificate for shop.example.com expires in 9 days", desc: "Renew the certificate before it expires.",
	},
}

// state is where a rule stands at one moment.
type state struct {
	firing   bool
	activeAt time.Time // when the expression became true
	firedAt  time.Time // when it started firing (activeAt + for)
}

// stateAt evaluates r at offset into the cycle that began at cycleStart.
// ok is false when the rule is inactive. Long-standing rules became active
// at since.
func (r *rule) stateAt(offset time.Duration, cycleStart, since time.Time) (st state, ok bool) {
	if len(r.active) == 0 {
		st.activeAt = since
	} else {
		for _, w := range r.active {
			if offset >= w.from && offset < w.to {
				st.activeAt = cycleStart.Add(w.from)
				ok = true
				break
			}
		}
		if !ok {
			return st, false
		}
	}
	st.firedAt = st.activeAt.Add(r.pendingFor)
	st.firing = !cycleStart.Add(offset).Before(st.firedAt)
	return st, true
}

func (r *rule) labels() map[string]string {
	return map[string]string{
		"alertname": r.name,
		"severity":  r.severity,
		"service":   r.service,
		"team":      r.team,
		"instance":  r.instance,
		"job":       r.service,
	}
}

func (r *rule) annotations() map[string]string {
	return map[string]string{
		"summary":     r.summary,
		"description": r.desc,
		"runbook_url": runbookURL(r.service) + "#" + r.name,
	}
}

func runbookURL(service string) string {
	return "https://runbooks.example.com/" + service
}
