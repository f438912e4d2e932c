// Package observe is the server's observability: Prometheus metrics served
// at /metrics and OpenTelemetry traces exported over OTLP/HTTP. Both hook
// in at two places, the HTTP request (see RequestObserver) and the GraphQL
// operation (see Extension), so the rest of the code knows nothing of them.
//
// Nothing recorded here carries request content: operation names are
// labels only when they look like names and the first few hundred seen
// (anything else is "other"), spans hold the route pattern rather than the
// path, and never the document, the variables or a header.
package observe

import (
	"database/sql"
	"net/http"
	"regexp"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

const namespace = "healthmed"

// MaxOperationNames bounds the distinct operation names used as labels;
// later names count as "other".
const MaxOperationNames = 200

// Label values that stand for many names.
const (
	Anonymous = "anonymous"
	Other     = "other"
)

// Metrics holds the server's collectors, on a registry of its own.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	operations *prometheus.CounterVec
	opDuration *prometheus.HistogramVec
	errors     *prometheus.CounterVec
	conflicts  *prometheus.CounterVec

	liveEvents     prometheus.Counter
	liveDeliveries prometheus.Counter
	liveDropped    prometheus.Counter

	names names
}

// NewMetrics returns the collectors, registered with the Go runtime's and
// the process's.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests by route pattern and response status.",
		}, []string{"route", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern (websocket upgrades excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graphql_operations_total",
			Help: "GraphQL operations by name and type (query, mutation, subscription; invalid when the document was refused before execution).",
		}, []string{"operation", "type"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "graphql_operation_duration_seconds",
			Help:    "Time from reading a GraphQL operation to its response, parsing and validation included (subscriptions excluded).",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"operation", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graphql_errors_total",
			Help: "Errors in GraphQL responses by operation and extensions.code.",
		}, []string{"operation", "code"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "booking_conflicts_total",
			Help: "Bookings refused because the slot was taken or the patient already had an appointment then.",
		}, []string{"reason"}),
		liveEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "live_events_total",
			Help: "Live events read by this replica's hub.",
		}),
		liveDeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "live_deliveries_total",
			Help: "Live events handed to subscriptions (one per event and subscription: the fan-out).",
		}),
		liveDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "live_slow_subscriptions_dropped_total",
			Help: "Subscriptions ended because they did not keep up with their events.",
		}),
		names: names{seen: map[string]bool{}, max: MaxOperationNames},
	}
	for _, reason := range []string{gqlerr.ReasonSlotTaken, gqlerr.ReasonPatientBusy} {
		m.conflicts.WithLabelValues(reason)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.operations, m.opDuration, m.errors, m.conflicts,
		m.liveEvents, m.liveDeliveries, m.liveDropped,
	)
	return m
}

// Registry is where the collectors are registered; tests gather from it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// WatchDB exports the connection pool's statistics (open, in use, idle,
// waits and time waited, closes) as go_sql_* with db_name="healthmed".
func (m *Metrics) WatchDB(db *sql.DB) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, "healthmed"))
}

// WatchSubscriptions exports the open live subscriptions, read at scrape
// time from count.
func (m *Metrics) WatchSubscriptions(count func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: "live_subscriptions_active",
		Help: "Open live-event subscriptions on this replica.",
	}, func() float64 { return float64(count()) }))
}

// LiveDelivered is the hub's hook: called once per event read, with the
// subscriptions it reached and those dropped as too slow.
func (m *Metrics) LiveDelivered(delivered, dropped int) {
	m.liveEvents.Inc()
	m.liveDeliveries.Add(float64(delivered))
	m.liveDropped.Add(float64(dropped))
}

func (m *Metrics) httpDone(route string, status int, seconds float64) {
	m.httpRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	if status != http.StatusSwitchingProtocols {
		m.httpDuration.WithLabelValues(route).Observe(seconds)
	}
}

func (m *Metrics) bookingConflict(reason string) { m.conflicts.WithLabelValues(reason).Inc() }

// validName is what an operation name must look like to become a label.
var validName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// names admits the first max distinct operation names as label values:
// names come from clients, and every new one would be a new series.
type names struct {
	mu   sync.RWMutex
	seen map[string]bool
	max  int
}

func (n *names) label(name string) string {
	if name == "" {
		return Anonymous
	}
	if !validName.MatchString(name) {
		return Other
	}
	n.mu.RLock()
	ok := n.seen[name]
	n.mu.RUnlock()
	if ok {
		return name
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen[name] {
		return name
	}
	if len(n.seen) >= n.max {
		return Other
	}
	n.seen[name] = true
	return name
}

// known is label without admitting a new name.
func (n *names) known(name string) string {
	if name == "" {
		return Anonymous
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.seen[name] {
		return name
	}
	return Other
}

// codeLabel keeps extensions.code as it is when it looks like one of the
// contract's codes (they are the server's, never the client's).
var validCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,39}$`)

func codeLabel(code any) string {
	s, _ := code.(string)
	switch {
	case s == "":
		return "none"
	case validCode.MatchString(s):
		return s
	}
	return Other
}
