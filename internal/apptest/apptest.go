// Package apptest runs the whole server (HTTP handler, GraphQL, Ent,
// privacy, PostgreSQL+PostGIS) against a test's own database, and speaks
// GraphQL to it the way a frontend does.
package apptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/reaction"
	"github.com/healthmed/healthmed/internal/testdb"
)

// Env is one running server on its own database.
type Env struct {
	T      testing.TB
	DB     *testdb.DB
	App    *app.App
	Server *httptest.Server
	Config config.Config
	Logs   *bytes.Buffer
	logw   *lockedWriter
	stmts  *statements
}

// LogText returns what the server logged so far; unlike Logs, it may be
// read while the server runs.
func (e *Env) LogText() string {
	e.logw.mu.Lock()
	defer e.logw.mu.Unlock()
	return e.Logs.String()
}

// Option adjusts the server before it is built.
type Option func(*settings)

type settings struct {
	cfg      config.Config
	opts     []app.Option
	listener net.Listener
}

// WithConfig changes the configuration.
func WithConfig(f func(*config.Config)) Option { return func(s *settings) { f(&s.cfg) } }

// WithApp passes an option to app.Build.
func WithApp(o app.Option) Option { return func(s *settings) { s.opts = append(s.opts, o) } }

// AtPublicURL listens before the server is built and makes its own
// address HEALTHMED_PUBLIC_URL: the links it hands out (receipts, record
// files) then lead back to it, as a browser following them needs.
func AtPublicURL(t testing.TB) Option {
	return func(s *settings) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.listener = ln
		s.cfg.PublicURL = "http://" + ln.Addr().String()
	}
}

// New starts a server for the test; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	d := testdb.New(t)
	// Production defaults, limits included, from an environment of the
	// test's own: only what production requires is given.
	env := map[string]string{
		"DATABASE_URL":          d.URL,
		"HEALTHMED_PUBLIC_URL":  "http://healthmed.test",
		"HEALTHMED_SIGNING_KEY": NewKeyPEM(t),
		"HEALTHMED_DATA_DIR":    t.TempDir(),
		"HEALTHMED_RECORD_KEK":  base64.StdEncoding.EncodeToString(randomBytes(t, 32)),
		"HEALTHMED_LINK_SECRET": base64.StdEncoding.EncodeToString(randomBytes(t, 32)),
		// Tests register many accounts from one address; the test of
		// the registration limit sets it.
		"HEALTHMED_REGISTER_PER_MINUTE": "0",
		// Every registration follows its e-mail link from this address
		// too; the test of that limit sets it.
		"HEALTHMED_ACCOUNT_LINKS_PER_MINUTE": "0",
	}
	cfg, err := config.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	st := settings{cfg: cfg}
	for _, o := range opts {
		o(&st)
	}
	cfg = st.cfg
	logs := &bytes.Buffer{}
	logw := &lockedWriter{w: logs}
	log := slog.New(slog.NewJSONHandler(logw, nil))
	stmts := &statements{}
	client := ent.NewClient(ent.Driver(dialect.DebugWithContext(db.NewPrepared(d.SQL, 256), stmts.record)),
		ent.Reactions(&reaction.Deps{}))
	t.Cleanup(func() { client.Close() })
	a, err := app.Build(context.Background(), cfg, log, d.SQL, client, st.opts...)
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	a.Start(ctx, log)
	srv := httptest.NewUnstartedServer(a.Handler)
	if st.listener != nil {
		srv.Listener.Close()
		srv.Listener = st.listener
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			logw.mu.Lock()
			t.Logf("server log:\n%s", logs.String())
			logw.mu.Unlock()
		}
	})
	return &Env{T: t, DB: d, App: a, Server: srv, Config: cfg, Logs: logs, logw: logw, stmts: stmts}
}

// Behind starts a second server on the same database whose every
// connection, pool and event listener alike, goes through the proxy.
func (e *Env) Behind(t testing.TB, p *Proxy) *Env {
	t.Helper()
	cfg := e.Config
	cfg.DatabaseURL = config.DatabaseURL(p.DSN(e.DB.URL))
	return e.replica(t, cfg)
}

// Replica starts a second server on the same database with its own
// connection pool and event reader, as another process would.
func (e *Env) Replica(t testing.TB) *Env {
	t.Helper()
	return e.replica(t, e.Config)
}

// ReplicaWith is Replica with its configuration changed, as a rolling
// deployment of new settings would run next to the old ones.
func (e *Env) ReplicaWith(t testing.TB, change func(*config.Config)) *Env {
	t.Helper()
	cfg := e.Config
	change(&cfg)
	return e.replica(t, cfg)
}

func (e *Env) replica(t testing.TB, cfg config.Config) *Env {
	sqlDB, err := db.Open(string(cfg.DatabaseURL))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(20)
	client := ent.NewClient(ent.Driver(db.NewPrepared(sqlDB, 256)), ent.Reactions(&reaction.Deps{}))
	t.Cleanup(func() { client.Close() })
	logs := &bytes.Buffer{}
	logw := &lockedWriter{w: logs}
	log := slog.New(slog.NewJSONHandler(logw, nil))
	a, err := app.Build(context.Background(), cfg, log, sqlDB, client)
	if err != nil {
		t.Fatalf("build replica: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	a.Start(ctx, log)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &Env{T: t, DB: &testdb.DB{URL: e.DB.URL, SQL: sqlDB, Client: client}, App: a, Server: srv, Config: cfg, Logs: logs,
		logw: logw, stmts: &statements{}}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// NewKeyPEM returns a fresh ES256 signing key in PKCS#8 PEM.
func NewKeyPEM(t testing.TB) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// Error is a GraphQL error as the client sees it.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Response is a GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Code returns the first error's code, or "" when there is none.
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code()
}

// Ext returns an extension of the first error.
func (r Response) Ext(key string) string {
	if len(r.Errors) == 0 {
		return ""
	}
	s, _ := r.Errors[0].Extensions[key].(string)
	return s
}

// Decode unmarshals data into v, failing the test on errors.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

// Do posts a GraphQL operation, with a bearer token when token is not "".
func (e *Env) Do(token, query string, vars map[string]any) Response {
	e.T.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

func (e *Env) send(req *http.Request) Response {
	e.T.Helper()
	res, err := e.Server.Client().Do(req)
	if err != nil {
		e.T.Fatalf("graphql request: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out Response
	if err := json.Unmarshal(raw, &out); err != nil {
		e.T.Fatalf("graphql response (status %d) is not JSON: %s", res.StatusCode, raw)
	}
	out.Status = res.StatusCode
	return out
}

// Unthrottled turns the per-client rate limits and the replica's
// admission limit off, for tests and benchmarks that hammer the server
// from one address on purpose.
func Unthrottled() Option {
	return WithConfig(func(c *config.Config) {
		c.SearchPerMinute, c.BookingPerMinute = 0, 0
		c.Load = config.Load{} // no admission limit either
	})
}
