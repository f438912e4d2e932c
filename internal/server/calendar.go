package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// calendarHandler serves an appointment's .ics to its own parties; anyone
// else gets the same 404 as for an appointment that does not exist.
func calendarHandler(render func(context.Context, int) ([]byte, error), log *slog.Logger) http.Handler {
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
			log.ErrorContext(r.Context(), "calendar", "err", err.Error(), "request_id", RequestID(r.Context()))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/calendar; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="consulta-`+strconv.Itoa(id)+`.ics"`)
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	})
}
