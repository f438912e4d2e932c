package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Endpoint is the one shape of the routes beside /graphql (record files,
// calendar, receipt, export). It returns its error instead of writing it,
// so every route answers failures alike (writeError); once it has sent
// its status line it no longer returns one, and a failure past that point
// aborts the response (http.ErrAbortHandler).
type Endpoint func(w http.ResponseWriter, r *http.Request) error

// anyone marks a route whose request carries its own credential (a signed
// download link): no role is required of the caller.
var anyone []viewer.Role

// serve runs h for a caller of one of roles, declared with the route as
// @hasRole declares it for a GraphQL field; with no roles, for anyone.
func serve(log *slog.Logger, roles []viewer.Role, h Endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(roles) > 0 {
			if err := gqlerr.CheckRole(r.Context(), roles...); err != nil {
				writeError(w, r, log, err)
				return
			}
		}
		if err := h(w, r); err != nil {
			writeError(w, r, log, err)
		}
	})
}

// statusOf is the HTTP status of each contract code.
var statusOf = map[string]int{
	gqlerr.Unauthenticated: http.StatusUnauthorized,
	gqlerr.Forbidden:       http.StatusForbidden,
	gqlerr.BadUserInput:    http.StatusBadRequest,
	gqlerr.NotFound:        http.StatusNotFound,
	gqlerr.Conflict:        http.StatusConflict,
	gqlerr.RateLimited:     http.StatusTooManyRequests,
	gqlerr.PayloadTooLarge: http.StatusRequestEntityTooLarge,
}

// writeError answers a route's error in the shape of a GraphQL error, with
// its contract code and the request id, so clients handle these routes'
// failures like every other. An error without a code is ours: it is
// logged and answered as INTERNAL.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := gqlerr.Classify(err)
	status, known := 0, false
	if e != nil {
		status, known = statusOf[e.Code]
	}
	if !known {
		log.ErrorContext(r.Context(), "request failed", "err", err.Error(), "path", r.URL.Path,
			"request_id", RequestID(r.Context()))
		e, status = &gqlerr.Error{Code: gqlerr.Internal, Message: "internal error"}, http.StatusInternalServerError
	}
	ext := map[string]any{"code": e.Code, "requestId": RequestID(r.Context())}
	if e.Field != "" {
		ext["field"] = e.Field
		ext["fields"] = e.AllFields()
	}
	if e.Reason != "" {
		ext["reason"] = e.Reason
	}
	h := w.Header()
	if e.RetryAfter > 0 {
		secs := int(math.Ceil(e.RetryAfter.Seconds()))
		ext["retryAfterSeconds"] = secs
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": e.Message, "extensions": ext}},
	})
}

// pathID reads a route's {id}; a malformed one names nothing there is.
func pathID(r *http.Request) (int, error) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id <= 0 {
		return 0, gqlerr.NotFoundError("object")
	}
	return id, nil
}

// document describes a file rendered for one object of the caller's own.
type document struct {
	contentType string
	fileName    func(id int) string
	render      func(context.Context, int) ([]byte, error)
}

// serveDocument serves a file (an appointment's .ics, an invoice's PDF) to
// the parties of its object only: for anyone else's object the same 404
// as for one that does not exist (the privacy rules).
func (doc document) serve(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	body, err := doc.render(r.Context(), id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", doc.contentType)
	h.Set("Content-Disposition", `attachment; filename="`+doc.fileName(id)+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
	return nil
}
