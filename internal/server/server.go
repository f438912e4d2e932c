// Package server wires the HTTP endpoints: GraphQL (HTTP and websocket),
// the IDE in dev mode, the token issuer's discovery documents and health.
package server

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/healthmed/healthmed/internal/viewer"
)

// Deps are what the endpoints need.
type Deps struct {
	Log       *slog.Logger
	DB        *sql.DB
	GraphQL   http.Handler
	Authn     Authenticator
	Discovery http.Handler
	JWKS      http.Handler
	Dev       bool
	// MaxBodyBytes and RequestTimeout bound GraphQL requests over HTTP.
	MaxBodyBytes   int64
	RequestTimeout time.Duration
	// BodyReadTimeout and UploadReadTimeout bound the time to receive a
	// request's body, a multipart upload's the latter.
	BodyReadTimeout   time.Duration
	UploadReadTimeout time.Duration
	// Origins are the browser origins CORS and websockets let in (all
	// refused when nil).
	Origins *Origins
	// TrustedProxies may name the client in X-Forwarded-For.
	TrustedProxies TrustedProxies
	// Export serves the signed-in patient's data export.
	Export Endpoint
	// Calendar renders an appointment as iCalendar for the viewer.
	Calendar func(ctx context.Context, id int) ([]byte, error)
	// Files serves the medical record's signed download links.
	Files Endpoint
	// Photos serves doctors' public photos.
	Photos Endpoint
	// Receipt renders an invoice as a PDF for the viewer.
	Receipt func(ctx context.Context, id int) ([]byte, error)
	// Metrics, when set, is served at GET /metrics: Prometheus's scrape,
	// unauthenticated, for the cluster's network only.
	Metrics http.Handler
	// Observer, when set, watches each request (metrics, a span).
	Observer RequestObserver
	// Admission bounds the GraphQL requests at work at once; zero
	// MaxInFlight, none.
	Admission Admission
}

// HTTPServer serves h on addr. A client gets readHeader to send a
// request's headers (bounded's read deadline covers GraphQL bodies); an
// idle keep-alive connection is closed after two minutes.
func HTTPServer(addr string, h http.Handler, readHeader time.Duration) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: readHeader, IdleTimeout: 120 * time.Second}
}

// Handler returns the server's root handler.
func Handler(d Deps) http.Handler {
	mux := http.NewServeMux()
	origins := d.Origins
	if origins == nil {
		origins = &Origins{}
	}
	mux.Handle("/graphql", noStore(withCORS(origins, d.Log, admit(d.Admission, bounded(withGraphQLAuth(d.Authn, d.Log, d.GraphQL), requestBounds{
		maxBody: d.MaxBodyBytes, timeout: d.RequestTimeout, body: d.BodyReadTimeout, upload: d.UploadReadTimeout})))))
	mux.Handle("GET /.well-known/openid-configuration", d.Discovery)
	mux.Handle("GET /.well-known/jwks.json", d.JWKS)
	// What the API links to is fetched by the web apps too (a download, an
	// in-app viewer), with the token, so across origins; each route says
	// who may call it.
	download := func(pattern string, h http.Handler) {
		mux.Handle("GET "+pattern, withCORS(origins, d.Log, withAuth(d.Authn, d.Log, h)))
		mux.Handle("OPTIONS "+pattern, withCORS(origins, d.Log, preflightOnly))
	}
	patients, parties := []viewer.Role{viewer.Patient}, []viewer.Role{viewer.Patient, viewer.Doctor}
	if d.Export != nil {
		download("/me/export", serve(d.Log, patients, d.Export))
	}
	if d.Calendar != nil {
		ics := document{"text/calendar; charset=utf-8", func(id int) string { return "consulta-" + strconv.Itoa(id) + ".ics" }, d.Calendar}
		download("/appointments/{id}/calendar.ics", serve(d.Log, parties, ics.serve))
	}
	if d.Receipt != nil {
		pdf := document{"application/pdf", func(id int) string { return "recibo-" + strconv.Itoa(id) + ".pdf" }, d.Receipt}
		download("/invoices/{id}/receipt.pdf", serve(d.Log, parties, pdf.serve))
	}
	if d.Files != nil {
		// The signed link is the credential; the download checks it.
		download("/files/{token}", serve(d.Log, anyone, d.Files))
	}
	if d.Photos != nil {
		// A doctor's photo is part of the public profile.
		download("/photos/{name}", serve(d.Log, anyone, d.Photos))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain")
		if err := d.DB.PingContext(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unreachable\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics)
	}
	if d.Dev {
		mountIDE(mux)
	}
	return withRequest(d.Log, d.Observer, d.TrustedProxies, mux, securityHeaders(d.TrustedProxies, mux))
}

// noStore keeps GraphQL answers, health data among them, out of every
// cache on the way: browsers', proxies', the back button's.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets what every response carries. HSTS goes out when
// the client's connection is HTTPS: ours, or a trusted proxy's that
// terminated TLS and says so in X-Forwarded-Proto.
func securityHeaders(proxies TrustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.TLS != nil || proxies.ForwardedHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
