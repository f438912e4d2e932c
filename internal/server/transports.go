package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// Reasons given with BAD_USER_INPUT when the HTTP request itself is wrong.
const (
	reasonMalformed    = "MALFORMED_REQUEST"
	reasonBatch        = "BATCH_NOT_SUPPORTED"
	reasonBodyTimeout  = "BODY_TIMEOUT"
	reasonMediaType    = "UNSUPPORTED_MEDIA_TYPE"
	reasonMethod       = "METHOD_NOT_ALLOWED"
	reasonQueryOverGET = "QUERY_ONLY_OVER_GET"
)

func init() {
	errcode.RegisterErrorType(reasonQueryOverGET, errcode.KindProtocol)
}

// refuse answers a request the transports cannot make an operation of.
func refuse(w http.ResponseWriter, r *http.Request, status int, code, reason, msg string) {
	ext := map[string]any{"code": code, "requestId": RequestID(r.Context())}
	if reason != "" {
		ext["reason"] = reason
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if status == http.StatusRequestEntityTooLarge || status == http.StatusRequestTimeout {
		// The rest of the body is not worth waiting for.
		h.Set("Connection", "close")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: ext}}})
}

// refuseBody answers a body that could not be read to its end.
func refuseBody(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		refuse(w, r, http.StatusRequestEntityTooLarge, gqlerr.PayloadTooLarge, "", "request body too large")
	case errors.Is(err, os.ErrDeadlineExceeded):
		refuse(w, r, http.StatusRequestTimeout, gqlerr.BadUserInput, reasonBodyTimeout, "the request body did not arrive in time")
	default:
		refuse(w, r, http.StatusBadRequest, gqlerr.BadUserInput, reasonMalformed, "the request body could not be read")
	}
}

// jsonPOST is gqlgen's POST transport behind a reader that settles the
// body first. gqlgen answers an unreadable or undecodable body through
// the response middleware without an operation, with no code, and quotes
// the whole body back in its message; here such a body is refused with
// the contract's code and nothing of it repeated.
type jsonPOST struct{ transport.POST }

func (t jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		refuseBody(w, r, err)
		return
	}
	if reason, msg := checkJSONRequest(body); reason != "" {
		refuse(w, r, http.StatusBadRequest, gqlerr.BadUserInput, reason, msg)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	t.POST.Do(w, r, exec)
}

// checkJSONRequest decodes body as gqlgen will, and one JSON value only.
// The variables and extensions are only checked here, not built: gqlgen
// decodes them again, and a body near the limit would cost twice.
// (json.Unmarshal scans the body once to check it, once to decode; a
// Decoder would scan it twice more.)
func checkJSONRequest(body []byte) (reason, msg string) {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return reasonBatch, "batched operations are not supported: send one operation per request"
	}
	var p struct {
		Query         string          `json:"query"`
		OperationName string          `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if err := json.Unmarshal(body, &p); err != nil || !objectOrNull(p.Variables) || !objectOrNull(p.Extensions) {
		return reasonMalformed, "the body is not a single JSON GraphQL request"
	}
	return "", ""
}

// objectOrNull reports whether raw (well-formed JSON, or absent) is an
// object or null, as gqlgen's map fields need.
func objectOrNull(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) == 0 || raw[0] == '{' || bytes.Equal(raw, []byte("null"))
}

type overGETKey struct{}

// queryGET is gqlgen's GET transport with its refusals in the contract's
// terms: undecodable parameters are refused here, and an operation other
// than a query by queriesOnlyOverGET (gqlgen would answer 406 with no
// code). GET must stay safe: a link or a prefetch must not book anything.
type queryGET struct{ transport.GET }

func (t queryGET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		refuse(w, r, http.StatusBadRequest, gqlerr.BadUserInput, reasonMalformed, "the query string could not be parsed")
		return
	}
	for _, name := range []string{"variables", "extensions"} {
		if v := q.Get(name); v != "" {
			var m map[string]any
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				refuse(w, r, http.StatusBadRequest, gqlerr.BadUserInput, reasonMalformed, name+" is not a JSON object")
				return
			}
		}
	}
	t.GET.Do(w, r.WithContext(context.WithValue(r.Context(), overGETKey{}, true)), exec)
}

// queriesOnlyOverGET refuses mutations and subscriptions sent over GET,
// before they are measured or run.
type queriesOnlyOverGET struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = queriesOnlyOverGET{}

func (queriesOnlyOverGET) ExtensionName() string                   { return "QueriesOnlyOverGET" }
func (queriesOnlyOverGET) Validate(graphql.ExecutableSchema) error { return nil }

func (queriesOnlyOverGET) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if ctx.Value(overGETKey{}) == nil || rc.Operation == nil || rc.Operation.Operation == ast.Query {
		return nil
	}
	err := gqlerror.Errorf("only queries may be sent with GET; send a %s with POST", rc.Operation.Operation)
	errcode.Set(err, reasonQueryOverGET)
	return err
}

// unsupported is the last transport: it takes whatever request no other
// transport supports (gqlgen's own answer carries no code).
type unsupported struct{}

var _ graphql.Transport = unsupported{}

func (unsupported) Supports(*http.Request) bool { return true }

func (unsupported) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	if r.Method == http.MethodPost {
		refuse(w, r, http.StatusUnsupportedMediaType, gqlerr.BadUserInput, reasonMediaType,
			"send application/json, or multipart/form-data for uploads")
		return
	}
	w.Header().Set("Allow", "GET, POST, OPTIONS")
	refuse(w, r, http.StatusMethodNotAllowed, gqlerr.BadUserInput, reasonMethod, "use GET or POST")
}
