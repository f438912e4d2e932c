package gqlerr

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/privacy"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/validate"
)

// constraintReasons names the database constraints whose violation is an
// expected conflict. Anything else stays an internal error.
var constraintReasons = map[string]string{
	"slots_no_overlap":                       ReasonSlotOverlap,
	"appointments_one_active_per_slot":       ReasonSlotTaken,
	"appointments_patient_no_overlap":        ReasonPatientBusy,
	"doctors_email_key":                      ReasonAlreadyRegistered,
	"doctor_crm_number_crm_state":            ReasonAlreadyRegistered,
	"patients_email_key":                     ReasonAlreadyRegistered,
	"patients_cpf_key":                       ReasonAlreadyRegistered,
	"appointment_patient_id_idempotency_key": ReasonSlotTaken,
	"feedback_appointment_id":                ReasonAlreadyRated,
}

// requestRules are the codes gqlgen and the limits give a refused operation.
var requestRules = map[string]bool{
	"GRAPHQL_PARSE_FAILED":      true,
	"GRAPHQL_VALIDATION_FAILED": true,
	"COMPLEXITY_LIMIT_EXCEEDED": true,
	"DEPTH_LIMIT_EXCEEDED":      true,
	"ALIAS_LIMIT_EXCEEDED":      true,
	"FIELD_LIMIT_EXCEEDED":      true,
	"QUERY_ONLY_OVER_GET":       true,
	"PERSISTED_QUERY_NOT_FOUND": true,
	"PERSISTED_QUERY_INVALID":   true,
	"PASSWORD_FIELD_LIMIT":      true,
}

// RequestIDFunc returns the request id kept in ctx, for error extensions
// and log lines; it is set by the HTTP layer.
var RequestIDFunc = func(context.Context) string { return "" }

// Presenter returns gqlgen's error presenter, logging unknown errors.
func Presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := Present(ctx, err, log)
		if id := RequestIDFunc(ctx); id != "" {
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
	out := func(e *Error) *gqlerror.Error {
		ext := map[string]any{"code": e.Code}
		if e.Field != "" {
			ext["field"] = e.Field
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
		if code == NotFound {
			return out(NotFoundError("object"))
		}
		// A malformed or oversized operation is bad input in the
		// contract's terms; gqlgen's own code says which rule it broke.
		if requestRules[code] {
			gq.Extensions["code"] = BadUserInput
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
			gq.Extensions["code"] = BadUserInput
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
			e := Classify(gq.Err)
			if e == nil || e.Code == BadUserInput {
				msg := "invalid value for " + field
				if e != nil && e.Message != "" {
					msg = field + ": " + e.Message
				}
				e = &Error{Code: BadUserInput, Field: field, Message: msg}
			}
			return out(e)
		}
	}
	if e := Classify(err); e != nil {
		return out(e)
	}
	if field := badArgument(ctx, err); field != "" {
		return out(BadInput(field, "invalid value for %s", field))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return out(&Error{Code: Internal, Message: "request timed out"})
	}
	if field := argumentOf(err, path); field != "" {
		return out(BadInput(field, "invalid value for %s", field))
	}
	log.ErrorContext(ctx, "unexpected error", "err", err.Error(), "path", path.String(),
		"request_id", RequestIDFunc(ctx))
	return out(&Error{Code: Internal, Message: "internal error"})
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

// Classify turns a known error into its contract form, or returns nil.
func Classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, auth.ErrBusy) {
		return RateLimitedError(time.Second)
	}
	var fe *validate.FieldError
	if errors.As(err, &fe) {
		return &Error{Code: BadUserInput, Field: fe.Field, Message: fe.Error()}
	}
	// A privacy denial reads as absence, so a probe cannot tell a
	// forbidden id from a missing one.
	if errors.Is(err, privacy.Deny) || ent.IsNotFound(err) {
		return NotFoundError("object")
	}
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		return &Error{Code: BadUserInput, Field: lowerCamel(ve.Name), Message: "invalid value for " + lowerCamel(ve.Name)}
	}
	var pqe *pq.Error
	if errors.As(err, &pqe) {
		if reason, ok := constraintReasons[pqe.Constraint]; ok {
			return ConflictError(reason, conflictMessage(reason))
		}
		if pqe.Code == "40001" || pqe.Code == "40P01" {
			return ConflictError("RETRY", "concurrent update, try again")
		}
	}
	return nil
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

func conflictMessage(reason string) string {
	switch reason {
	case ReasonSlotOverlap:
		return "slot overlaps another slot of this doctor"
	case ReasonSlotTaken:
		return "slot is already taken"
	case ReasonPatientBusy:
		return "you already have an appointment at that time"
	case ReasonAlreadyRegistered:
		return "already registered"
	case ReasonAlreadyRated:
		return "this appointment was already rated"
	}
	return "conflict"
}

func lowerCamel(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
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
