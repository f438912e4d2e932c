package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

func TestMetricsCountWhatHappened(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Metrics", "Cardiology", -23.5, -46.6)
	first, _, _ := env.Patient("First")
	second, _, _ := env.Patient("Second")
	slot := createSlot(t, env, doc, 9)

	ws := env.Connect(t, apptest.TransportWS, doc)
	ws.Subscribe("1", agendaSubOp, nil)
	apptest.WaitFor(t, "the subscription", func() bool { return env.App.Hub.Receiving() == 1 })

	var booked struct{ BookAppointment struct{ ID, Status string } }
	env.Do(first, bookNamedOp, map[string]any{"slot": slot}).Decode(t, &booked)
	var ev struct{ AgendaUpdated struct{ Kind string } }
	ws.NextData("1", &ev)
	if ev.AgendaUpdated.Kind != "BOOKING_REQUESTED" {
		t.Fatalf("event %q", ev.AgendaUpdated.Kind)
	}
	if r := env.Do(second, bookNamedOp, map[string]any{"slot": slot}); r.Code() != "CONFLICT" || r.Ext("reason") != "SLOT_TAKEN" {
		t.Fatalf("second booking: %+v", r.Errors)
	}
	env.Do(first, whoAmIOp, nil).Decode(t, &struct{}{})
	env.Do(first, "query "+strings.Repeat("N", 65)+" { viewer { __typename } }", nil).Decode(t, &struct{}{})
	if r := env.Do("", "query Broken {", nil); r.Code() != "BAD_USER_INPUT" || r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("parse error: %d %+v", r.Status, r.Errors)
	}
	if r := env.Do("not-a-token", whoAmIOp, nil); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("bad token: %d", r.Status)
	}
	for path, status := range map[string]int{"/healthz": 200, "/nowhere": 404} {
		res, err := http.Get(env.Server.URL + path)
		if err != nil || res.StatusCode != status {
			t.Fatalf("GET %s: %v %v", path, res.StatusCode, err)
		}
		res.Body.Close()
	}

	m := scrapeURL(t, env.Server.URL+"/metrics")

	// Booking: one refused, counted once, under its reason only.
	m.want(t, 1, "healthmed_booking_conflicts_total", "reason", "SLOT_TAKEN")
	m.want(t, 0, "healthmed_booking_conflicts_total", "reason", "PATIENT_OVERLAP")

	// Operations by name and type; apptest's own are unnamed.
	m.want(t, 2, "healthmed_graphql_operations_total", "operation", "Book", "type", "mutation")
	m.want(t, 2, "healthmed_graphql_operation_duration_seconds", "operation", "Book", "type", "mutation")
	// Each registration is three: register, follow the link, refresh.
	m.want(t, 10, "healthmed_graphql_operations_total", "operation", "anonymous", "type", "mutation")
	m.want(t, 2, "healthmed_graphql_operations_total", "operation", "WhoAmI", "type", "query") // one refused token
	m.want(t, 2, "healthmed_graphql_operation_duration_seconds", "operation", "WhoAmI", "type", "query")
	m.want(t, 1, "healthmed_graphql_operations_total", "operation", "other", "type", "query")
	m.want(t, 1, "healthmed_graphql_operations_total", "operation", "anonymous", "type", "invalid")
	m.want(t, 1, "healthmed_graphql_operations_total", "operation", "Agenda", "type", "subscription")
	m.wantAbsent(t, "healthmed_graphql_operation_duration_seconds", "type", "subscription")
	for _, s := range m["healthmed_graphql_operations_total"].Metric {
		for _, l := range s.Label {
			if l.GetName() == "operation" && len(l.GetValue()) > 64 {
				t.Errorf("an over-long operation name became a label: %q", l.GetValue())
			}
		}
	}

	// Errors by code: the conflict, the unparsable document and the
	// refused token, nothing else.
	m.want(t, 1, "healthmed_graphql_errors_total", "operation", "Book", "code", "CONFLICT")
	m.want(t, 1, "healthmed_graphql_errors_total", "operation", "anonymous", "code", "BAD_USER_INPUT")
	m.want(t, 1, "healthmed_graphql_errors_total", "operation", "WhoAmI", "code", "UNAUTHENTICATED")
	if n := len(m["healthmed_graphql_errors_total"].GetMetric()); n != 3 {
		t.Errorf("%d error series, want 3", n)
	}

	// HTTP by route and status: 15 GraphQL answers (the refused token's
	// among them), the parse error, health and a miss, and the websocket,
	// counted once its upgrade is done (the socket then lives on without
	// the request).
	m.want(t, 15, "healthmed_http_requests_total", "route", "/graphql", "status", "200")
	m.want(t, 1, "healthmed_http_requests_total", "route", "/graphql", "status", "422")
	m.wantAbsent(t, "healthmed_http_requests_total", "route", "/graphql", "status", "401")
	m.want(t, 1, "healthmed_http_requests_total", "route", "GET /healthz", "status", "200")
	m.want(t, 1, "healthmed_http_requests_total", "route", "unmatched", "status", "404")
	m.want(t, 1, "healthmed_http_requests_total", "route", "/graphql", "status", "101")
	m.want(t, 16, "healthmed_http_request_duration_seconds", "route", "/graphql") // not the upgrade

	// Live events: the subscription is open, and the booking reached it.
	m.want(t, 1, "healthmed_live_subscriptions_active")
	m.wantAtLeast(t, 1, "healthmed_live_deliveries_total")
	m.wantAtLeast(t, 2, "healthmed_live_events_total") // slot created, booking requested
	m.want(t, 0, "healthmed_live_slow_subscriptions_dropped_total")

	// The pool, the runtime and the process.
	m.wantAtLeast(t, 1, "go_sql_open_connections", "db_name", "healthmed")
	for _, name := range []string{"go_sql_in_use_connections", "go_sql_idle_connections", "go_sql_wait_count_total",
		"go_sql_wait_duration_seconds_total", "go_sql_max_open_connections"} {
		if _, ok := m.get(name, "db_name", "healthmed"); !ok {
			t.Errorf("no %s", name)
		}
	}
	m.wantAtLeast(t, 1, "go_goroutines")
	m.wantAtLeast(t, 1, "process_start_time_seconds")

	// The websocket counts as a 101 once it is closed, and the
	// subscription gauge drops back.
	ws.Close()
	apptest.WaitFor(t, "the subscription to end", func() bool { return env.App.Hub.Subscribers() == 0 })
	apptest.WaitFor(t, "the websocket's request to end", func() bool {
		v, _ := scrapeURL(t, env.Server.URL+"/metrics").get("healthmed_http_requests_total", "route", "/graphql", "status", "101")
		return v == 1
	})
	after := scrapeURL(t, env.Server.URL+"/metrics")
	after.want(t, 0, "healthmed_live_subscriptions_active")
	after.want(t, 1, "healthmed_booking_conflicts_total", "reason", "SLOT_TAKEN")
}

func TestPatientOverlapCountsAsABookingConflict(t *testing.T) {
	env := apptest.New(t)
	doc1, _ := env.Doctor("Dr. One", "Cardiology", -23.5, -46.6)
	doc2, _ := env.Doctor("Dr. Two", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Busy")
	a, b := createSlot(t, env, doc1, 10), createSlot(t, env, doc2, 10)
	env.Do(pat, bookNamedOp, map[string]any{"slot": a}).Decode(t, &struct{}{})
	// An alias does not hide the field from the count.
	r := env.Do(pat, `mutation($s: ID!) { again: bookAppointment(slotId: $s) { id } }`, map[string]any{"s": b})
	if r.Code() != "CONFLICT" || r.Ext("reason") != "PATIENT_OVERLAP" {
		t.Fatalf("overlapping booking: %+v", r.Errors)
	}
	m := scrapeURL(t, env.Server.URL+"/metrics")
	m.want(t, 1, "healthmed_booking_conflicts_total", "reason", "PATIENT_OVERLAP")
	m.want(t, 0, "healthmed_booking_conflicts_total", "reason", "SLOT_TAKEN")
}

func TestMetricsCanBeTurnedOffOrMoved(t *testing.T) {
	off := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.Metrics = "off" }))
	if res, err := http.Get(off.Server.URL + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("metrics off: GET /metrics = %v %v", res.StatusCode, err)
	}
	if off.App.Metrics != nil || off.App.MetricsAddr() != "" {
		t.Fatal("metrics off, yet collected")
	}
	off.Do("", whoAmIOp, nil).Decode(t, &struct{}{})

	moved := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.Metrics = "127.0.0.1:0" }))
	t.Cleanup(func() { _ = moved.App.Close(t.Context()) })
	if res, err := http.Get(moved.Server.URL + "/metrics"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("metrics moved: GET /metrics on the main listener = %v %v", res.StatusCode, err)
	}
	moved.Do("", whoAmIOp, nil).Decode(t, &struct{}{})
	m := scrapeURL(t, "http://"+moved.App.MetricsAddr()+"/metrics")
	m.want(t, 1, "healthmed_graphql_operations_total", "operation", "WhoAmI", "type", "query")
	m.want(t, 1, "healthmed_http_requests_total", "route", "unmatched", "status", "404")

	// Profiles only on the operators' port.
	if res, err := http.Get("http://" + moved.App.MetricsAddr() + "/debug/pprof/heap?debug=1"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /debug/pprof/heap on the metrics listener = %v %v", res, err)
	}
	if res, err := http.Get(moved.Server.URL + "/debug/pprof/heap"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /debug/pprof/heap on the main listener = %v %v", res, err)
	}
}
