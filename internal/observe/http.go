package observe

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Observer records the metrics and spans of requests and operations.
// Either part may be nil; a nil *Observer records nothing.
type Observer struct {
	Metrics *Metrics
	Tracing *Tracing
}

// Unmatched is the route label of a request no route matched.
const Unmatched = "unmatched"

// StartRequest is called as an HTTP request arrives with the pattern of
// the route it matched ("" for none). The context it returns carries the
// request's span, if tracing is on; end is called with the status sent.
func (o *Observer) StartRequest(ctx context.Context, r *http.Request, route, requestID string) (context.Context, func(status int)) {
	if o == nil || (o.Metrics == nil && o.Tracing == nil) {
		return ctx, func(int) {}
	}
	start := time.Now()
	if route == "" {
		route = Unmatched
	}
	var span trace.Span
	if t := o.Tracing; t != nil {
		ctx = t.propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
		method := knownMethod(r.Method)
		ctx, span = t.tracer.Start(ctx, spanName(method, route), trace.WithSpanKind(trace.SpanKindServer),
			trace.WithTimestamp(start),
			// The route, not the path: a path can hold a download token.
			trace.WithAttributes(
				attribute.String("http.request.method", method),
				attribute.String("http.route", strings.TrimPrefix(route, method+" ")),
				attribute.String("healthmed.request_id", requestID),
			))
	}
	return ctx, func(status int) {
		if o.Metrics != nil {
			o.Metrics.httpDone(route, status, time.Since(start).Seconds())
		}
		if span != nil {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			span.End()
		}
	}
}

func spanName(method, route string) string {
	switch {
	case route == Unmatched:
		return method
	case strings.HasPrefix(route, "/"):
		return method + " " + route
	}
	// The pattern names its method already: "GET /healthz".
	return route
}

func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}
