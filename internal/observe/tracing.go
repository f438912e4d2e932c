package observe

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names the tracer, as OpenTelemetry asks.
const instrumentation = "github.com/healthmed/healthmed/internal/observe"

// Tracing exports spans over OTLP/HTTP. A nil *Tracing traces nothing.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// NewTracing exports spans to tracesURL, the collector's full OTLP/HTTP
// traces URL (http://collector:4318/v1/traces). It returns nil when
// tracesURL is empty: tracing is off and costs nothing. The exporter's
// other settings (headers, timeout, compression, TLS) come from the
// standard OTEL_EXPORTER_OTLP_* variables, the sampler from
// OTEL_TRACES_SAMPLER, and the resource from OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES.
func NewTracing(ctx context.Context, tracesURL string) (*Tracing, error) {
	if tracesURL == "" {
		return nil, nil
	}
	u, err := url.Parse(tracesURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("OTLP traces endpoint: want an http(s) URL")
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tracesURL))
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "healthmed")),
		resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost())
	if err != nil && res == nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return fromProvider(sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))), nil
}

func fromProvider(tp *sdktrace.TracerProvider) *Tracing {
	return &Tracing{
		provider: tp,
		tracer:   tp.Tracer(instrumentation),
		// W3C trace context only: baggage would let a client put
		// arbitrary data into every span.
		propagator: propagation.TraceContext{},
	}
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// ForceFlush exports the spans buffered so far.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.ForceFlush(ctx)
}
