package graph_test

import (
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
	get := func(path string) (*http.Response, string) {
		res, err := http.Get(env.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	res, body := get("/")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "https:") {
		t.Fatalf("policy allows inline code or another host: %q", csp)
	}
	// Every script and stylesheet comes from this server, and it serves them.
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 4 || strings.Contains(body, "<script>") {
		t.Fatalf("page:\n%s", body)
	}
	for _, m := range refs {
		if !strings.HasPrefix(m[1], "/ide/") {
			t.Fatalf("the page loads %s from elsewhere", m[1])
		}
		if r, b := get(m[1]); r.StatusCode != http.StatusOK || len(b) == 0 {
			t.Fatalf("%s: %d", m[1], r.StatusCode)
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
