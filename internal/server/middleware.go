package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/observe"
	"github.com/healthmed/healthmed/internal/requestid"
	"github.com/healthmed/healthmed/internal/viewer"
)

// RequestID returns the id given to the request that ctx belongs to.
func RequestID(ctx context.Context) string { return requestid.FromContext(ctx) }

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RequestObserver watches each HTTP request (internal/observe: metrics
// and a span). StartRequest gets the pattern of the route the request
// matched ("" for none); the context it returns is the request's, and end
// is told the status sent.
type RequestObserver interface {
	StartRequest(ctx context.Context, r *http.Request, route, requestID string) (_ context.Context, end func(status int))
}

// withRequest gives every request an id, records the client address for
// the audit log and rate limits, and logs the outcome, with the trace the
// request belongs to when tracing is on.
func withRequest(log *slog.Logger, obs RequestObserver, proxies TrustedProxies, mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		ctx := requestid.NewContext(r.Context(), id)
		host := proxies.ClientAddr(r)
		ctx = viewer.NewContext(ctx, viewer.Viewer{ClientAddr: host})
		_, route := mux.Handler(r)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		if observe.IsWarmUp(ctx) {
			next.ServeHTTP(sw, r.WithContext(ctx))
			return
		}
		if obs != nil {
			var end func(int)
			ctx, end = obs.StartRequest(ctx, r, route, id)
			defer func() { end(sw.status) }()
		}
		next.ServeHTTP(sw, r.WithContext(ctx))
		attrs := []any{"request_id", id, "method", r.Method,
			"path", logPath(r.URL.Path, route), "status", sw.status, "duration_ms", time.Since(start).Milliseconds(),
			"client_addr", host}
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			attrs = append(attrs, "trace_id", sc.TraceID().String(), "span_id", sc.SpanID().String())
		}
		log.InfoContext(ctx, "http request", attrs...)
	})
}

// logPath is the path for the log line: a route whose path holds a
// secret (a download link's token) is logged as its pattern.
func logPath(path, route string) string {
	if strings.Contains(route, "{token}") {
		if _, p, ok := strings.Cut(route, " "); ok {
			return p
		}
		return route
	}
	return path
}

// Authenticator turns a bearer token into a viewer.
type Authenticator interface {
	Authenticate(ctx context.Context, raw string) (viewer.Viewer, error)
}

// withAuth puts the viewer named by the Authorization header in the
// context. A request without the header stays anonymous; one with a bad
// token is refused outright (401) rather than silently treated as
// anonymous. It guards the routes beside /graphql.
func withAuth(a Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return authenticated(a, log, next, func(w http.ResponseWriter, r *http.Request, reason string) {
		writeGraphQLError(w, http.StatusUnauthorized, gqlerr.Unauthenticated, reason, tokenMessage(reason), RequestID(r.Context()))
	})
}

// withGraphQLAuth is withAuth for /graphql, where a bad token is refused
// in GraphQL's terms, as every other GraphQL error: HTTP 200 and
// UNAUTHENTICATED with the reason, which an auth link of Apollo Client or
// urql reads (a 401 would reach it as a network error). The request goes
// on anonymous, marked with the reason, and staleTokens refuses the
// operation once it is known: all of them but the mutations made only of
// @public fields (sign-in, registration, refreshSession, logout), which
// take their credentials as arguments, so that a client may refresh with
// the expired token still in its headers.
func withGraphQLAuth(a Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return authenticated(a, log, next, func(w http.ResponseWriter, r *http.Request, reason string) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), staleTokenKey{}, reason)))
	})
}

type staleTokenKey struct{}

// staleToken is the reason the request's bearer token was refused, "" when
// it was good or none was sent.
func staleToken(ctx context.Context) string {
	reason, _ := ctx.Value(staleTokenKey{}).(string)
	return reason
}

func tokenMessage(reason string) string {
	if reason == gqlerr.ReasonTokenExpired {
		return "the access token has expired: refresh it"
	}
	return "invalid token: sign in again"
}

// authenticated runs next as the viewer the Authorization header names,
// or refused with the reason the token is not good.
func authenticated(a Authenticator, log *slog.Logger, next http.Handler, refused func(http.ResponseWriter, *http.Request, string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		raw, ok := auth.BearerToken(h)
		var v viewer.Viewer
		var err error
		if ok {
			v, err = a.Authenticate(r.Context(), raw)
		} else {
			err = auth.ErrUnauthenticated
		}
		if err != nil && !errors.Is(err, auth.ErrUnauthenticated) {
			log.ErrorContext(r.Context(), "authentication failed", "err", err.Error(), "request_id", RequestID(r.Context()))
			writeGraphQLError(w, http.StatusServiceUnavailable, gqlerr.Internal, "", "internal error", RequestID(r.Context()))
			return
		}
		if err != nil {
			reason := gqlerr.ReasonTokenInvalid
			if auth.Expired(err) {
				reason = gqlerr.ReasonTokenExpired
			}
			refused(w, r, reason)
			return
		}
		v.ClientAddr = viewer.FromContext(r.Context()).ClientAddr
		next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
	})
}

func writeGraphQLError(w http.ResponseWriter, status int, code, reason, msg, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	ext := map[string]any{"code": code, "requestId": requestID}
	if reason != "" {
		ext["reason"] = reason
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": ext}},
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Hijack and Flush for websockets.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection to the websocket upgrader, which asserts
// http.Hijacker directly.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.status = http.StatusSwitchingProtocols
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// Flush keeps streaming responses (multipart, SSE) streaming.
func (s *statusWriter) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }
