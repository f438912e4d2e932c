package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// document describes a file rendered for one object of the caller's own.
type document struct {
	what        string // for the log line
	contentType string
	fileName    func(id int) string
}

var (
	calendarDoc = document{"calendar", "text/calendar; charset=utf-8",
		func(id int) string { return "consulta-" + strconv.Itoa(id) + ".ics" }}
	receiptDoc = document{"receipt", "application/pdf",
		func(id int) string { return "recibo-" + strconv.Itoa(id) + ".pdf" }}
)

// documentHandler serves a file (an appointment's .ics, an invoice's PDF)
// to the parties of its object only: 401 without a doctor's or patient's
// token, and for anyone else's object the same 404 as for one that does
// not exist.
func documentHandler(doc document, render func(context.Context, int) ([]byte, error), log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		body, err := render(r.Context(), id)
		var e *gqlerr.Error
		switch {
		case err == nil:
		case errors.As(err, &e) && e.Code == gqlerr.Unauthenticated:
			writeGraphQLError(w, http.StatusUnauthorized, e.Code, e.Message, RequestID(r.Context()))
			return
		case errors.As(err, &e) && e.Code == gqlerr.NotFound:
			http.NotFound(w, r)
			return
		default:
			log.ErrorContext(r.Context(), doc.what, "err", err.Error(), "request_id", RequestID(r.Context()))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", doc.contentType)
		h.Set("Content-Disposition", `attachment; filename="`+doc.fileName(id)+`"`)
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}
