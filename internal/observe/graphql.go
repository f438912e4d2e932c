package observe

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// Extension returns the gqlgen extension that counts and times operations,
// counts their errors and booking conflicts, and gives each operation a
// span.
func (o *Observer) Extension() graphql.HandlerExtension { return extension{o} }

type extension struct{ o *Observer }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
	graphql.RootFieldInterceptor
} = extension{}

func (extension) ExtensionName() string                   { return "Observe" }
func (extension) Validate(graphql.ExecutableSchema) error { return nil }

type observedKey struct{}

// Invalid is the type label of a request refused before execution
// (unreadable body, parse or validation error, limits).
const Invalid = "invalid"

// InterceptOperation sees every operation that passed validation; the
// response handler it returns sees each of its responses, one for a query
// or a mutation, one per event for a subscription.
func (e extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if IsWarmUp(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	typ, name := string(oc.Operation.Operation), oc.Operation.Name
	start := oc.Stats.OperationStart
	if start.IsZero() {
		start = time.Now()
	}
	m, label := e.o.Metrics, ""
	if m != nil {
		label = m.names.label(name)
		m.operations.WithLabelValues(label, typ).Inc()
	}
	var span trace.Span
	if t := e.o.Tracing; t != nil {
		ctx, span = t.tracer.Start(ctx, operationSpanName(typ, name), trace.WithTimestamp(start),
			trace.WithAttributes(
				attribute.String("graphql.operation.type", typ),
				attribute.String("graphql.operation.name", spanOperationName(name)),
			))
	}
	ctx = context.WithValue(ctx, observedKey{}, true)
	responses := next(ctx)
	first := true
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp == nil {
			if span != nil {
				span.End()
			}
			return nil
		}
		if m != nil {
			m.countErrors(label, resp.Errors)
		}
		if first && typ != string(ast.Subscription) {
			if m != nil {
				m.opDuration.WithLabelValues(label, typ).Observe(time.Since(start).Seconds())
			}
			if span != nil {
				endWithErrors(span, resp.Errors)
			}
		}
		if first && span != nil && typ == string(ast.Subscription) {
			// A subscription's span lasts as long as it does; a
			// transport that stops asking for events ends it with ctx.
			context.AfterFunc(ctx, func() { span.End() })
			if len(resp.Errors) > 0 {
				endWithErrors(span, resp.Errors)
			}
		}
		first = false
		return resp
	}
}

// InterceptResponse counts the requests that never became an operation:
// their only response is the error list.
func (e extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if ctx.Value(observedKey{}) != nil || resp == nil || IsWarmUp(ctx) {
		return resp
	}
	m := e.o.Metrics
	if m == nil {
		return resp
	}
	name, typ := "", Invalid
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		name = oc.OperationName
	}
	// A refused document's name is a label only if a valid operation
	// made it one: garbage cannot use up the names.
	label := m.names.known(name)
	m.operations.WithLabelValues(label, typ).Inc()
	if graphql.HasOperationContext(ctx) {
		if start := graphql.GetOperationContext(ctx).Stats.OperationStart; !start.IsZero() {
			m.opDuration.WithLabelValues(label, typ).Observe(time.Since(start).Seconds())
		}
	}
	m.countErrors(label, resp.Errors)
	return resp
}

// InterceptRootField counts refused bookings. A root field's
// interceptor, not a field middleware, which would run for every field of
// every answer. The refusal is read as presented, from the errors on the
// field's own path (the alias the client chose).
func (e extension) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	res := next(ctx)
	rf := graphql.GetRootFieldContext(ctx)
	if e.o.Metrics == nil || rf == nil || rf.Field.Name != "bookAppointment" ||
		graphql.GetOperationContext(ctx).Operation.Operation != ast.Mutation {
		return res
	}
	for _, err := range graphql.GetErrors(ctx) {
		if len(err.Path) != 1 || err.Path[0] != ast.PathName(rf.Field.Alias) || err.Extensions["code"] != gqlerr.Conflict {
			continue
		}
		switch reason, _ := err.Extensions["reason"].(string); reason {
		case gqlerr.ReasonSlotTaken, gqlerr.ReasonPatientBusy, gqlerr.ReasonSlotHeld:
			e.o.Metrics.bookingConflict(reason)
		}
	}
	return res
}

func (m *Metrics) countErrors(operation string, errs gqlerror.List) {
	for _, err := range errs {
		m.errors.WithLabelValues(operation, codeLabel(err.Extensions["code"])).Inc()
	}
}

// endWithErrors marks the span failed with the errors' codes (their
// messages stay out: a validation message can quote the document).
func endWithErrors(span trace.Span, errs gqlerror.List) {
	if len(errs) > 0 {
		seen := map[string]bool{}
		for _, err := range errs {
			seen[codeLabel(err.Extensions["code"])] = true
		}
		list := make([]string, 0, len(seen))
		for c := range seen {
			list = append(list, c)
		}
		sort.Strings(list)
		span.SetAttributes(attribute.StringSlice("graphql.error.codes", list))
		span.SetStatus(codes.Error, strings.Join(list, ","))
	}
	span.End()
}

func spanOperationName(name string) string {
	switch {
	case name == "":
		return Anonymous
	case validName.MatchString(name):
		return name
	}
	return Other
}

// operationSpanName follows the GraphQL conventions: "query GetDoctor".
func operationSpanName(typ, name string) string {
	return typ + " " + spanOperationName(name)
}
