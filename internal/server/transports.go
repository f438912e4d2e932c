package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/jsonreq"
)

// Reasons given with BAD_USER_INPUT when the HTTP request itself is wrong.
const (
	reasonMalformed    = "MALFORMED_REQUEST"
	reasonBatch        = "BATCH_NOT_SUPPORTED"
	reasonBodyTimeout  = "BODY_TIMEOUT"
	reasonMediaType    = "UNSUPPORTED_MEDIA_TYPE"
	reasonMethod       = "METHOD_NOT_ALLOWED"
	reasonQueryOverGET = "QUERY_ONLY_OVER_GET"
	reasonSubOverPOST  = "SUBSCRIPTIONS_OVER_WEBSOCKET"
)

func init() {
	errcode.RegisterErrorType(reasonQueryOverGET, errcode.KindProtocol)
	errcode.RegisterErrorType(reasonSubOverPOST, errcode.KindProtocol)
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

// jsonPOST is gqlgen's POST transport (the GraphQL-over-HTTP POST with a
// JSON body) reading the body once: gqlgen's own answers an unreadable or
// undecodable body through the response middleware without an operation,
// with no code, quoting the whole body back, and a body near the limit
// checked first and then decoded again by gqlgen cost twice.
type jsonPOST struct{ transport.POST }

func (t jsonPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		refuseBody(w, r, err)
		return
	}
	params := &graphql.RawParams{}
	if err := jsonreq.Decode(body, params); err != nil {
		reason := reasonMalformed
		if errors.Is(err, jsonreq.ErrBatch) {
			reason = reasonBatch
		}
		refuse(w, r, http.StatusBadRequest, gqlerr.BadUserInput, reason, err.Error())
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := context.WithValue(r.Context(), overHTTPKey{}, http.MethodPost)
	graphQLResponse := responseContentType(r) == graphQLResponseJSON
	if graphQLResponse {
		w.Header().Set("Content-Type", graphQLResponseJSON)
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		w.WriteHeader(statusForRefused(opErr, graphQLResponse))
		writeJSON(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	writeJSON(w, responses(ctx))
}

const graphQLResponseJSON = "application/graphql-response+json"

// responseContentType picks the answer's media type from Accept as the
// GraphQL-over-HTTP spec (and gqlgen) does: the first of the two JSON
// types named, application/json for none or a wildcard.
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case graphQLResponseJSON:
			return graphQLResponseJSON
		}
	}
	return graphQLResponseJSON
}

// statusForRefused is the HTTP status of an operation refused before it
// ran: a request error (unparsable, invalid) is 422 to an
// application/json client and 400 to a graphql-response+json one, as in
// gqlgen; anything else keeps 200 with the errors in the body.
func statusForRefused(errs gqlerror.List, graphQLResponse bool) int {
	if errcode.GetErrorKind(errs) != errcode.KindProtocol {
		return http.StatusOK
	}
	if graphQLResponse {
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

// queryGET is gqlgen's GET transport with its refusals in the contract's
// terms: undecodable parameters are refused here, and an operation other
// than a query by operationsByMethod.
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
	t.GET.Do(w, r.WithContext(context.WithValue(r.Context(), overHTTPKey{}, http.MethodGet)), exec)
}

// overHTTPKey marks an operation that came over HTTP with the request's
// method (http.MethodGet or http.MethodPost).
type overHTTPKey struct{}

// operationsByMethod refuses, before it is measured or run, an operation
// its HTTP method does not carry:
//   - over GET, anything but a query (gqlgen would answer 406 with no code,
//     and GET must stay safe: a link or a prefetch must not book anything);
//   - over POST, a subscription: gqlgen would run it, and the request would
//     wait for its first event until the request timeout ended it with a
//     500, holding a handler and a place of the subscription quota
//     meanwhile. (Multipart takes mutations only.)
type operationsByMethod struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = operationsByMethod{}

func (operationsByMethod) ExtensionName() string                   { return "OperationsByMethod" }
func (operationsByMethod) Validate(graphql.ExecutableSchema) error { return nil }

func (operationsByMethod) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	op := rc.Operation.Operation
	var err *gqlerror.Error
	switch method, _ := ctx.Value(overHTTPKey{}).(string); {
	case method == http.MethodGet && op != ast.Query:
		err = gqlerror.Errorf("only queries may be sent with GET; send a %s with POST", op)
		errcode.Set(err, reasonQueryOverGET)
	case method == http.MethodPost && op == ast.Subscription:
		err = gqlerror.Errorf("subscriptions go over the websocket (graphql-transport-ws or graphql-ws), not POST")
		errcode.Set(err, reasonSubOverPOST)
	}
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
