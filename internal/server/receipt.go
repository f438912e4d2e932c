package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// receiptHandler serves an invoice's PDF to its own patient and doctor
// with the calendar file's rules: 401 without a doctor's or patient's
// token, and for anyone else's invoice the same 404 as for one that does
// not exist.
func receiptHandler(render func(context.Context, int) ([]byte, error), log *slog.Logger) http.Handler {
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
			log.ErrorContext(r.Context(), "receipt", "err", err.Error(), "request_id", RequestID(r.Context()))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Disposition", `attachment; filename="recibo-`+strconv.Itoa(id)+`.pdf"`)
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}
