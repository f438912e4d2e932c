package app_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// collector is an OTLP/HTTP receiver: it accepts POST /v1/traces and
// keeps the spans.
type collector struct {
	*httptest.Server
	mu       sync.Mutex
	posts    int
	received []*tracepb.Span
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "not OTLP/HTTP traces", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.posts++
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				c.received = append(c.received, ss.Spans...)
			}
		}
		c.mu.Unlock()
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) spans() []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*tracepb.Span(nil), c.received...)
}

func attr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			switch v := a.Value.Value.(type) {
			case *commonpb.AnyValue_StringValue:
				return v.StringValue
			case *commonpb.AnyValue_IntValue:
				return strconv.FormatInt(v.IntValue, 10)
			}
			return a.Value.String()
		}
	}
	return ""
}

func TestTracesReachAnOTLPCollector(t *testing.T) {
	col := newCollector(t)
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.OTLPTracesURL = col.URL + "/v1/traces" }))
	doc, _ := env.Doctor("Dr. Traced", "Cardiology", -23.5, -46.6)

	// A client that is itself traced: its trace goes on.
	const clientTrace, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	body, _ := json.Marshal(map[string]any{"query": whoAmIOp})
	req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+doc)
	req.Header.Set("traceparent", "00-"+clientTrace+"-"+clientSpan+"-01")
	res, err := env.Server.Client().Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("traced request: %v %v", res.StatusCode, err)
	}
	requestID := res.Header.Get("X-Request-Id")
	res.Body.Close()
	if r := env.Do("", "query Broken {", nil); r.Code() != "BAD_USER_INPUT" {
		t.Fatalf("parse error: %+v", r.Errors)
	}

	// Every request has been answered and logged; closing the app
	// flushes the spans, as the command does on its way out.
	env.Server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.App.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}

	spans := col.spans()
	byName := map[string][]*tracepb.Span{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
	}
	// The registration is three requests: register, follow the e-mail
	// link, refresh into the account.
	if len(byName["POST /graphql"]) != 5 || len(byName["query WhoAmI"]) != 1 || len(byName["mutation anonymous"]) != 3 {
		names := []string{}
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("spans received: %q", names)
	}
	op := byName["query WhoAmI"][0]
	if attr(op, "graphql.operation.name") != "WhoAmI" || attr(op, "graphql.operation.type") != "query" {
		t.Errorf("operation span attributes: %v", op.Attributes)
	}
	if got := hex.EncodeToString(op.TraceId); got != clientTrace {
		t.Errorf("operation span in trace %s, want the client's %s", got, clientTrace)
	}
	var server *tracepb.Span
	for _, s := range byName["POST /graphql"] {
		if bytes.Equal(s.SpanId, op.ParentSpanId) {
			server = s
		}
	}
	if server == nil {
		t.Fatal("the operation span's parent is not a request span")
	}
	if hex.EncodeToString(server.ParentSpanId) != clientSpan || server.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("request span: parent %x kind %v", server.ParentSpanId, server.Kind)
	}
	if attr(server, "http.route") != "/graphql" || attr(server, "http.response.status_code") != "200" ||
		attr(server, "http.request.method") != "POST" || attr(server, "healthmed.request_id") != requestID {
		t.Errorf("request span attributes: %v", server.Attributes)
	}

	// The request's log line names the trace and the span.
	var line map[string]any
	for _, l := range strings.Split(env.Logs.String(), "\n") {
		if strings.Contains(l, `"request_id":"`+requestID+`"`) && strings.Contains(l, `"msg":"http request"`) {
			_ = json.Unmarshal([]byte(l), &line)
		}
	}
	if line["trace_id"] != clientTrace || line["span_id"] != hex.EncodeToString(server.SpanId) {
		t.Errorf("log line %v, want trace %s span %x", line, clientTrace, server.SpanId)
	}

	// The refused document: a request span with the error's code, no
	// operation span (there was no operation), and nothing of the document.
	var refused bool
	for _, s := range byName["POST /graphql"] {
		if attr(s, "http.response.status_code") == "422" {
			refused = true
		}
	}
	if !refused {
		t.Error("no request span for the refused document")
	}
	for _, s := range spans {
		for _, a := range s.Attributes {
			if v := a.Value.String(); strings.Contains(v, "Broken") || strings.Contains(v, "correct horse") || strings.Contains(v, doc) {
				t.Errorf("span %s records request content: %s=%s", s.Name, a.Key, v)
			}
		}
	}
	col.mu.Lock()
	posts := col.posts
	col.mu.Unlock()
	t.Logf("%d spans in %d export requests", len(spans), posts)
}

func TestTracingOffLeavesNoTraceInLogs(t *testing.T) {
	env := apptest.New(t)
	env.Do("", whoAmIOp, nil).Decode(t, &struct{}{})
	env.Server.Close()
	if strings.Contains(env.Logs.String(), "trace_id") {
		t.Fatal("trace ids logged with tracing off")
	}
}
