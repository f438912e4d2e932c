package server

import (
	"log/slog"
	"net/http"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// What a web app's requests may carry beyond the CORS-safelisted headers:
// its token, JSON or multipart bodies, Apollo's CSRF header and client
// identification, and W3C trace context (traces continue from the
// browser). And what it may read of a response beyond the safelisted
// ones: the request id to quote, a download's file name, a rate limit's
// wait.
const (
	corsAllowHeaders  = "Authorization, Content-Type, Apollo-Require-Preflight, apollographql-client-name, apollographql-client-version, traceparent, tracestate"
	corsExposeHeaders = "X-Request-Id, Content-Disposition, Retry-After"
)

// withCORS lets the allowed browser origins call the API, and no others:
// the frontends live on their own origins, and a page elsewhere must not
// be able to read responses with a visitor's token. Preflights end here.
// A websocket handshake from a foreign page is refused here too, in the
// contract's terms and logged, before gqlgen would answer it without a
// code.
func withCORS(origins *Origins, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if r.Header.Get("Upgrade") != "" && !origins.AllowsSocket(r) {
			log.WarnContext(r.Context(), "websocket refused: origin not allowed", "request_id", RequestID(r.Context()),
				"origin", truncate(origin, maxOrigin), "hint", "add it to HEALTHMED_ALLOWED_ORIGINS")
			refuse(w, r, http.StatusForbidden, gqlerr.Forbidden, "", "this origin may not open a websocket")
			return
		}
		if origin == "" || !origins.Allows(origin) {
			if preflight {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		if preflight {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// preflightOnly answers the preflight of a GET-only route (withCORS ends
// every allowed one before this).
var preflightOnly = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD, OPTIONS")
	w.WriteHeader(http.StatusNoContent)
})

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
