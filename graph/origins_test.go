package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

func preflight(t *testing.T, env *apptest.Env, path, origin, headers string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, env.Server.URL+path, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// A web app on its own origin downloads what the API links to (receipt,
// calendar file, LGPD export, record files) with its bearer token, and
// sends the headers its GraphQL client and tracing add.
func TestCORSCoversDownloadsAndClientHeaders(t *testing.T) {
	const app = "https://app.healthmed.example"
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.AllowedOrigins = []string{app} }))
	pat, _, _ := env.Patient("Cora")
	const asked = "authorization, traceparent, tracestate, apollographql-client-name, apollographql-client-version"
	for _, path := range []string{"/graphql", "/invoices/1/receipt.pdf", "/appointments/1/calendar.ics", "/me/export", "/files/some-link-token"} {
		res := preflight(t, env, path, app, asked)
		allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != app {
			t.Fatalf("preflight of %s: %d %v", path, res.StatusCode, res.Header)
		}
		for _, h := range strings.Split(asked, ", ") {
			if !strings.Contains(allowed, h) {
				t.Errorf("preflight of %s does not allow %s: %q", path, h, allowed)
			}
		}
		if bad := preflight(t, env, path, "https://evil.example", "authorization"); bad.StatusCode != http.StatusForbidden ||
			bad.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("foreign preflight of %s: %d %v", path, bad.StatusCode, bad.Header)
		}
		if path == "/graphql" {
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
		req.Header.Set("Origin", app)
		req.Header.Set("Authorization", "Bearer "+pat)
		got, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got.Body.Close()
		// Even a refusal is readable by the app, or it sees "Failed to fetch".
		if got.Header.Get("Access-Control-Allow-Origin") != app ||
			!strings.Contains(got.Header.Get("Access-Control-Expose-Headers"), "Content-Disposition") {
			t.Errorf("GET %s: %d %v", path, got.StatusCode, got.Header)
		}
	}
	// The export is the patient's own: the app reads it.
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/me/export", nil)
	req.Header.Set("Origin", app)
	req.Header.Set("Authorization", "Bearer "+pat)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != app || !bytes.HasPrefix(body, []byte("PK")) {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
}

// Development lets a front end on any local port in (a Vite or Next dev
// server), and nothing else; production only what is configured.
func TestDevelopmentAllowsLocalOrigins(t *testing.T) {
	dev := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.Dev = true }))
	prod := apptest.New(t)
	for _, origin := range []string{"http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8081", "http://localhost", "https://localhost:8443"} {
		if res := preflight(t, dev, "/graphql", origin, "authorization, content-type"); res.StatusCode != http.StatusNoContent ||
			res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("dev, %s: %d %v", origin, res.StatusCode, res.Header)
		}
		if res := preflight(t, prod, "/graphql", origin, "authorization"); res.StatusCode != http.StatusForbidden {
			t.Errorf("production, %s: %d", origin, res.StatusCode)
		}
	}
	for _, origin := range []string{"http://localhost.evil.example:5173", "http://evil.example", "null", "http://127.0.0.2:80",
		"http://localhost:5173/path", "http://user@localhost:5173", "file://", "http://localhost:99999999"} {
		if res := preflight(t, dev, "/graphql", origin, "authorization"); res.StatusCode != http.StatusForbidden {
			t.Errorf("dev, %s: %d", origin, res.StatusCode)
		}
	}
}

// The IDE's own page opens its websocket, whatever origins are configured;
// a foreign page's socket is refused with the contract's code, and the
// refusal is logged as JSON like every other line.
func TestWebsocketOriginsAndRefusalLog(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) {
		c.Dev = true
		c.AllowedOrigins = []string{"https://app.healthmed.example"}
	}))
	pat, _, _ := env.Patient("Iara")
	for _, origin := range []string{env.Server.URL, env.Config.PublicURL, "http://localhost:5173", "https://app.healthmed.example"} {
		w, _, err := env.DialWS(t, apptest.TransportWS, pat, origin)
		if err != nil {
			t.Fatalf("origin %s refused: %v", origin, err)
		}
		if m, err := w.Next(5 * time.Second); err != nil || m.Type != "connection_ack" {
			t.Fatalf("origin %s: %+v %v", origin, m, err)
		}
	}
	_, res, err := env.DialWS(t, apptest.TransportWS, pat, "https://evil.example")
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v %+v", err, res)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `"code":"FORBIDDEN"`) {
		t.Fatalf("refusal body %s", body)
	}
	var found bool
	for _, line := range bytes.Split(bytes.TrimSpace([]byte(env.LogText())), []byte("\n")) {
		if !json.Valid(line) {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if bytes.Contains(line, []byte("https://evil.example")) && bytes.Contains(line, []byte(`"level":"WARN"`)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no warning names the refused origin:\n%s", env.LogText())
	}
}
