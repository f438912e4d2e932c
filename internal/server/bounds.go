package server

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// bounded caps a GraphQL request's JSON body and its running time.
// Multipart uploads are bounded by their transport (internal/multipart),
// which holds their operation to the same cap before reading files, and a
// websocket lives as long as its subscriptions.
func bounded(next http.Handler, maxBody int64, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" && maxBody > 0 {
			if r.ContentLength > maxBody {
				writeGraphQLError(w, http.StatusRequestEntityTooLarge, gqlerr.PayloadTooLarge,
					"request body too large", RequestID(r.Context()))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		if timeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}
