package graph_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

func TestCORSLetsOnlyTheListedOrigins(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.AllowedOrigins = []string{"https://app.healthmed.example"} }))
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, env.Server.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	ok := preflight("https://app.healthmed.example")
	if ok.StatusCode != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != "https://app.healthmed.example" ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("allowed preflight: %d %v", ok.StatusCode, ok.Header)
	}
	if bad := preflight("https://evil.example"); bad.StatusCode != http.StatusForbidden || bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight: %d %v", bad.StatusCode, bad.Header)
	}
	for origin, want := range map[string]string{"https://app.healthmed.example": "https://app.healthmed.example", "https://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { __typename } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Fatalf("POST from %s: Allow-Origin %q, want %q", origin, got, want)
		}
	}
}

func TestIDEPageRunsUnderAStrictPolicy(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.Dev = true }))
	res, err := http.Get(env.Server.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("policy allows arbitrary inline code: %q", csp)
	}
	// Every inline script of the page is allowed by its hash.
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(string(body), -1)
	if len(scripts) == 0 {
		t.Fatal("no inline script found: the test no longer checks anything")
	}
	for _, m := range scripts {
		sum := sha256.Sum256([]byte(m[1]))
		if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, h) {
			t.Fatalf("inline script not allowed by the policy (%s)", h)
		}
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if res.Header.Get(h) == "" {
			t.Fatalf("missing %s", h)
		}
	}
}

// TestGraphQLAnswersAreNotCachedAndHSTSFollowsTheProxy: GraphQL answers
// carry health data, so no cache may keep them; behind a proxy that
// terminates TLS, HSTS goes out when that trusted proxy says the client
// came over HTTPS, and only then.
func TestGraphQLAnswersAreNotCachedAndHSTSFollowsTheProxy(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} }))
	plain := apptest.New(t)
	pat, _, _ := env.Patient("Cacheless")
	for _, tc := range []struct {
		name  string
		env   *apptest.Env
		proto string
		hsts  bool
	}{
		{"trusted proxy, https", env, "https", true},
		{"trusted proxy, several hops", env, "http, https", true},
		{"trusted proxy, http", env, "http", false},
		{"no header", env, "", false},
		{"untrusted peer claiming https", plain, "https", false},
	} {
		req, _ := http.NewRequest(http.MethodPost, tc.env.Server.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { __typename } }"}`))
		req.Header.Set("Content-Type", "application/json")
		if tc.env == env {
			req.Header.Set("Authorization", "Bearer "+pat)
		}
		if tc.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tc.proto)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Strict-Transport-Security") != ""; got != tc.hsts {
			t.Errorf("%s: HSTS %q", tc.name, res.Header.Get("Strict-Transport-Security"))
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q on a GraphQL answer", tc.name, cc)
		}
	}
}
