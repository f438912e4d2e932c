package server

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// The GraphQL error presenter: every error a resolver, a directive or
// gqlgen itself returns becomes what the client sees here, with the
// request's id. Domain errors are classified by gqlerr.Classify.

// requestRules are the codes gqlgen and the limits give a refused operation.
var requestRules = map[string]bool{
	"GRAPHQL_PARSE_FAILED":         true,
	"GRAPHQL_VALIDATION_FAILED":    true,
	"COMPLEXITY_LIMIT_EXCEEDED":    true,
	"DEPTH_LIMIT_EXCEEDED":         true,
	"ALIAS_LIMIT_EXCEEDED":         true,
	"FIELD_LIMIT_EXCEEDED":         true,
	"SAME_FIELD_LIMIT_EXCEEDED":    true,
	"QUERY_ONLY_OVER_GET":          true,
	"SUBSCRIPTIONS_OVER_WEBSOCKET": true,
	"PERSISTED_QUERY_NOT_FOUND":    true,
	"PERSISTED_QUERY_INVALID":      true,
	"PASSWORD_FIELD_LIMIT":         true,
}

// Presenter returns gqlgen's error presenter, logging unknown errors.
func Presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := Present(ctx, err, log)
		if id := RequestID(ctx); id != "" {
			if gerr.Extensions == nil {
				gerr.Extensions = map[string]any{}
			}
			gerr.Extensions["requestId"] = id
		}
		return gerr
	}
}

// Present maps err to the client-facing error.
func Present(ctx context.Context, err error, log *slog.Logger) *gqlerror.Error {
	var path = graphql.GetPath(ctx)
	out := func(e *gqlerr.Error) *gqlerror.Error {
		ext := map[string]any{"code": e.Code}
		if e.Field != "" {
			ext["field"] = e.Field
			ext["fields"] = e.AllFields()
		}
		if e.Reason != "" {
			ext["reason"] = e.Reason
		}
		if e.RetryAfter > 0 {
			ext["retryAfterSeconds"] = int(math.Ceil(e.RetryAfter.Seconds()))
		}
		return &gqlerror.Error{Message: e.Message, Path: path, Extensions: ext}
	}
	// Errors gqlgen made itself (parse, validation, limits) keep their code.
	var gq *gqlerror.Error
	if errors.As(err, &gq) && gq.Err == nil {
		// entgql's node lookups name the id they could not find; answer
		// them like every other absence, so probes learn nothing.
		code, _ := gq.Extensions["code"].(string)
		if code == gqlerr.NotFound {
			return out(gqlerr.NotFoundError("object"))
		}
		// A malformed or oversized operation is bad input in the
		// contract's terms; gqlgen's own code says which rule it broke.
		if requestRules[code] {
			gq.Extensions["code"] = gqlerr.BadUserInput
			gq.Extensions["reason"] = code
		}
		// Without a code or a path, it is gqlgen refusing the request
		// itself (a persisted query's hash that does not match, an
		// operation name not in the document): nothing of ours has run.
		// With a path it is a field's ("must not be null"), and ours.
		if code == "" && len(gq.Path) == 0 && len(path) == 0 {
			if gq.Extensions == nil {
				gq.Extensions = map[string]any{}
			}
			gq.Extensions["code"] = gqlerr.BadUserInput
		}
		if gq.Path == nil {
			gq.Path = path
		}
		return gq
	}
	// An argument or input field that did not unmarshal is the client's
	// mistake: gqlgen gives such an error the value's path below the
	// field's own, which names the input field.
	if gq != nil && gq.Err != nil {
		if field, ok := inputField(path, gq.Path); ok {
			e := gqlerr.Classify(gq.Err)
			if e == nil || e.Code == gqlerr.BadUserInput {
				msg := "invalid value for " + field
				if e != nil && e.Message != "" {
					msg = field + ": " + e.Message
				}
				e = &gqlerr.Error{Code: gqlerr.BadUserInput, Field: field, Message: msg}
			}
			return out(e)
		}
	}
	if e := gqlerr.Classify(err); e != nil {
		return out(e)
	}
	if field := badArgument(ctx, err); field != "" {
		return out(gqlerr.BadInput(field, "invalid value for %s", field))
	}
	if cancelled(ctx, err) {
		return out(&gqlerr.Error{Code: gqlerr.Internal, Message: "request timed out"})
	}
	if field := argumentOf(err, path); field != "" {
		return out(gqlerr.BadInput(field, "invalid value for %s", field))
	}
	log.ErrorContext(ctx, "unexpected error", "err", err.Error(), "path", path.String(),
		"request_id", RequestID(ctx))
	return out(&gqlerr.Error{Code: gqlerr.Internal, Message: "internal error"})
}

// badArgument names the argument of an error raised while gqlgen coerced
// the field's arguments (an ID that is not a number, an object where a
// string goes), before any resolver ran: gqlgen puts the argument's path
// right after the field's.
func badArgument(ctx context.Context, err error) string {
	var gq *gqlerror.Error
	fc := graphql.GetFieldContext(ctx)
	if !errors.As(err, &gq) || fc == nil || fc.Field.Field == nil {
		return ""
	}
	at := len(fc.Path())
	if len(gq.Path) <= at {
		return ""
	}
	if name, ok := gq.Path[at].(ast.PathName); !ok || fc.Field.Arguments.ForName(string(name)) == nil {
		return ""
	}
	var names []string
	for _, p := range gq.Path[at:] {
		if n, ok := p.(ast.PathName); ok {
			names = append(names, string(n))
		}
	}
	return strings.Join(names, ".")
}

// inputField names the input value at errPath, relative to the field at
// fieldPath, the way validation errors name fields: "after",
// "input.expiresAt", "input[0].startsAt". ok is false unless errPath lies
// below fieldPath and starts with an argument's name.
func inputField(fieldPath, errPath ast.Path) (string, bool) {
	if len(errPath) <= len(fieldPath) {
		return "", false
	}
	for i, el := range fieldPath {
		if errPath[i] != el {
			return "", false
		}
	}
	rest := errPath[len(fieldPath):]
	if _, ok := rest[0].(ast.PathName); !ok {
		return "", false
	}
	var b strings.Builder
	for i, el := range rest {
		switch el := el.(type) {
		case ast.PathName:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(string(el))
		case ast.PathIndex:
			b.WriteString("[" + strconv.Itoa(int(el)) + "]")
		}
	}
	return b.String(), true
}

// argumentOf names the argument an error belongs to when gqlgen could not
// unmarshal it (an ID that is not one, say, written in the document): the
// error sits on the argument's path, below the field's own. Anything a
// resolver returns sits on the field's path.
func argumentOf(err error, field ast.Path) string {
	var gq *gqlerror.Error
	if !errors.As(err, &gq) || len(gq.Path) <= len(field) {
		return ""
	}
	for i, el := range field {
		if gq.Path[i] != el {
			return ""
		}
	}
	for i := len(gq.Path) - 1; i >= len(field); i-- {
		if name, ok := gq.Path[i].(ast.PathName); ok {
			return string(name)
		}
	}
	return ""
}

// cancelled tells a request its client left (or its time ran out) from a
// failure: lib/pq reports a statement it cancelled for the context as
// query_canceled, not as the context's error.
func cancelled(ctx context.Context, err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pqe *pq.Error
	return ctx.Err() != nil && errors.As(err, &pqe) && pqe.Code == "57014"
}
