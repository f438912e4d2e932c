package observe

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestOperationNamesAreCappedAndChecked(t *testing.T) {
	n := names{seen: map[string]bool{}, max: 3}
	long := strings.Repeat("a", 65)
	cases := []struct{ in, want string }{
		{"", Anonymous},
		{"GetDoctor", "GetDoctor"},
		{"get_doctor_2", "get_doctor_2"},
		{long, Other},
		{strings.Repeat("b", 64), strings.Repeat("b", 64)},
		{"with space", Other},
		{"ação", Other},
		{`x"}`, Other},
		// The cap is reached: new names are "other", known ones stay.
		{"Fourth", Other},
		{"GetDoctor", "GetDoctor"},
	}
	for _, c := range cases {
		if got := n.label(c.in); got != c.want {
			t.Errorf("label(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if len(n.seen) != 3 {
		t.Fatalf("%d names admitted, want 3", len(n.seen))
	}
	if got := n.known("NeverSeen"); got != Other {
		t.Fatalf("known(unseen) = %q", got)
	}
	if got := n.known("GetDoctor"); got != "GetDoctor" {
		t.Fatalf("known(seen) = %q", got)
	}
}

func TestTheDefaultCapHoldsUnderManyNames(t *testing.T) {
	m := NewMetrics()
	for i := 0; i < 1000; i++ {
		m.operations.WithLabelValues(m.names.label(fmt.Sprintf("Op%d", i)), "query").Inc()
	}
	if got := testutil.CollectAndCount(m.operations); got != MaxOperationNames+1 {
		t.Fatalf("%d series, want %d names and other", got, MaxOperationNames+1)
	}
	if got := testutil.ToFloat64(m.operations.WithLabelValues(Other, "query")); got != 1000-MaxOperationNames {
		t.Fatalf("other = %v", got)
	}
}

func TestCodeLabels(t *testing.T) {
	for in, want := range map[any]string{
		nil: "none", "": "none", "CONFLICT": "CONFLICT", "BAD_USER_INPUT": "BAD_USER_INPUT",
		"lower": Other, 42: "none", strings.Repeat("A", 41): Other,
	} {
		if got := codeLabel(in); got != want {
			t.Errorf("codeLabel(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestRequestObserverSpansNameTheRouteNotThePath(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	o := &Observer{Metrics: NewMetrics(), Tracing: fromProvider(tp)}
	cases := []struct {
		method, path, route, name string
		status                    int
	}{
		{"GET", "/files/secret-link-token", "GET /files/{token}", "GET /files/{token}", 200},
		{"POST", "/graphql", "/graphql", "POST /graphql", 200},
		{"BREW", "/nowhere", "", "_OTHER", 404},
		{"GET", "/healthz", "GET /healthz", "GET /healthz", 503},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.path, nil)
		r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		_, end := o.StartRequest(context.Background(), r, c.route, "req1")
		end(c.status)
	}
	spans := rec.Ended()
	if len(spans) != len(cases) {
		t.Fatalf("%d spans, want %d", len(spans), len(cases))
	}
	for i, s := range spans {
		if s.Name() != cases[i].name {
			t.Errorf("span %d named %q, want %q", i, s.Name(), cases[i].name)
		}
		if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("span %d ignores the incoming traceparent", i)
		}
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.String(), "secret-link-token") {
				t.Errorf("span %d records the path: %v", i, a)
			}
		}
	}
	if spans[3].Status().Code.String() != "Error" || spans[0].Status().Code.String() == "Error" {
		t.Errorf("statuses: %v %v", spans[3].Status(), spans[0].Status())
	}
	for route, status := range map[string]string{"GET /files/{token}": "200", Unmatched: "404", "GET /healthz": "503"} {
		if got := testutil.ToFloat64(o.Metrics.httpRequests.WithLabelValues(route, status)); got != 1 {
			t.Errorf("http_requests_total{route=%q,status=%q} = %v", route, status, got)
		}
	}
}

func TestNilObserverDoesNothing(t *testing.T) {
	var o *Observer
	ctx := context.Background()
	got, end := o.StartRequest(ctx, httptest.NewRequest(http.MethodGet, "/", nil), "", "")
	end(200)
	if got != ctx {
		t.Fatal("a nil observer changed the context")
	}
	if tr, err := NewTracing(ctx, ""); tr != nil || err != nil {
		t.Fatalf("tracing without an endpoint: %v %v", tr, err)
	}
	if err := (*Tracing)(nil).Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
