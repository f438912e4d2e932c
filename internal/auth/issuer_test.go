package auth

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

func TestIssueClaims(t *testing.T) {
	f := newFixture(t)
	tok, exp, err := f.issuer.Issue("42", RolePatient)
	if err != nil {
		t.Fatal(err)
	}
	if want := testNow.Add(DefaultTokenTTL); !exp.Equal(want) {
		t.Errorf("expiresAt = %v, want %v", exp, want)
	}
	h := decodeJWTPart(t, tok, 0)
	if h["alg"] != "ES256" || h["kid"] != f.keys.KeyIDs()[0] || h["typ"] != "at+jwt" {
		t.Errorf("header = %v", h)
	}
	c := decodeJWTPart(t, tok, 1)
	want := map[string]any{
		"iss": testIssuer, "sub": "42", "aud": testAudience, "role": RolePatient,
		"iat": float64(testNow.Unix()), "nbf": float64(testNow.Unix()), "exp": float64(exp.Unix()),
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v (%T), want %v", k, c[k], c[k], v)
		}
	}
	if jti, _ := c["jti"].(string); len(jti) < 16 {
		t.Errorf("jti = %q, want a random id", c["jti"])
	}
	if len(c) != len(want)+1 {
		t.Errorf("unexpected claims in %v", c)
	}

	tok2, _, err := f.issuer.Issue("42", RolePatient)
	if err != nil {
		t.Fatal(err)
	}
	if decodeJWTPart(t, tok2, 1)["jti"] == c["jti"] {
		t.Error("two tokens share a jti")
	}
}

func TestIssueTTLAndSubSecondClock(t *testing.T) {
	keys, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	now := testNow.Add(700 * time.Millisecond)
	iss := NewIssuer(IssuerConfig{IssuerURL: testIssuer, Audience: testAudience, TTL: time.Hour,
		Now: func() time.Time { return now }}, keys)
	tok, exp, err := iss.Issue("7", RoleDoctor)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(testNow.Add(time.Hour)) {
		t.Errorf("expiresAt = %v, want whole seconds %v", exp, testNow.Add(time.Hour))
	}
	if got := decodeJWTPart(t, tok, 1)["exp"]; got != float64(exp.Unix()) {
		t.Errorf("exp claim %v differs from returned expiresAt %v", got, exp.Unix())
	}
}

func TestIssueRejects(t *testing.T) {
	keys, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	good := IssuerConfig{IssuerURL: testIssuer, Audience: testAudience}
	tests := []struct {
		name          string
		cfg           IssuerConfig
		keys          *KeySet
		subject, role string
	}{
		{"unknown role", good, keys, "1", "superuser"},
		{"empty role", good, keys, "1", ""},
		{"role case", good, keys, "1", "Doctor"},
		{"empty subject", good, keys, "", RoleDoctor},
		{"no keys", good, nil, "1", RoleDoctor},
		{"no issuer url", IssuerConfig{Audience: testAudience}, keys, "1", RoleDoctor},
		{"no audience", IssuerConfig{IssuerURL: testIssuer}, keys, "1", RoleDoctor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _, err := NewIssuer(tt.cfg, tt.keys).Issue(tt.subject, tt.role)
			if err == nil || tok != "" {
				t.Fatalf("Issue = %q, %v; want an error and no token", tok, err)
			}
		})
	}
}

// A stock OIDC client, pointed at our discovery document, must find the
// keys and accept our tokens: that is the contract other services rely on.
func TestDiscoveryAndJWKSVerifyIssuedToken(t *testing.T) {
	keys, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	var iss *Issuer
	mux := http.NewServeMux()
	mux.Handle(DiscoveryPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.DiscoveryHandler().ServeHTTP(w, r) }))
	mux.Handle(JWKSPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { iss.JWKSHandler().ServeHTTP(w, r) }))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	iss = NewIssuer(IssuerConfig{IssuerURL: srv.URL, Audience: testAudience}, keys)

	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	tok, _, err := iss.Issue("42", RoleDoctor)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: testAudience}).Verify(ctx, tok)
	if err != nil {
		t.Fatalf("a stock verifier rejects our token: %v", err)
	}
	if idt.Subject != "42" || idt.Issuer != srv.URL {
		t.Errorf("verified token = sub %q iss %q", idt.Subject, idt.Issuer)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, tok); err == nil {
		t.Error("a verifier for another audience accepted our token")
	}

	var doc map[string]any
	res := get(t, srv.URL+DiscoveryPath, &doc)
	if doc["issuer"] != srv.URL || doc["jwks_uri"] != srv.URL+JWKSPath {
		t.Errorf("discovery document = %v", doc)
	}
	if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "ES256" {
		t.Errorf("algorithms = %v", doc["id_token_signing_alg_values_supported"])
	}
	for _, k := range []string{"response_types_supported", "subject_types_supported"} {
		if v, _ := doc[k].([]any); len(v) == 0 {
			t.Errorf("discovery lacks %s", k)
		}
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("discovery Content-Type = %q", ct)
	}

	var set jose.JSONWebKeySet
	res = get(t, srv.URL+JWKSPath, &set)
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("JWKS Cache-Control = %q", cc)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys", len(set.Keys))
	}
	k := set.Keys[0]
	if k.KeyID != keys.KeyIDs()[0] || k.Algorithm != "ES256" || k.Use != "sig" || !k.IsPublic() || !k.Valid() {
		t.Errorf("JWKS key = kid %q alg %q use %q public %v", k.KeyID, k.Algorithm, k.Use, k.IsPublic())
	}
}

func TestJWKSPublishesEveryKeyAndNoSecret(t *testing.T) {
	a, b := newECKey(t, elliptic.P256()), newECKey(t, elliptic.P256())
	keys, err := ParseKeySetPEM(pkcs8PEM(t, a) + pkcs8PEM(t, b))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	NewIssuer(IssuerConfig{IssuerURL: testIssuer, Audience: testAudience}, keys).JWKSHandler().
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, JWKSPath, nil))
	body := rec.Body.String()
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 2 || raw.Keys[0]["kid"] != keys.KeyIDs()[0] || raw.Keys[1]["kid"] != keys.KeyIDs()[1] {
		t.Fatalf("JWKS = %s", body)
	}
	for _, k := range raw.Keys {
		if _, ok := k["d"]; ok {
			t.Fatalf("JWKS publishes a private key: %s", body)
		}
	}
}

func TestWellKnownHandlersMethods(t *testing.T) {
	f := newFixture(t)
	for name, h := range map[string]http.Handler{"discovery": f.issuer.DiscoveryHandler(), "jwks": f.issuer.JWKSHandler()} {
		for _, tt := range []struct {
			method   string
			status   int
			wantBody bool
		}{
			{http.MethodGet, http.StatusOK, true},
			{http.MethodHead, http.StatusOK, false},
			{http.MethodPost, http.StatusMethodNotAllowed, false},
			{http.MethodDelete, http.StatusMethodNotAllowed, false},
		} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/", nil))
			if rec.Code != tt.status {
				t.Errorf("%s %s: status %d, want %d", name, tt.method, rec.Code, tt.status)
			}
			if got := strings.HasPrefix(rec.Body.String(), "{"); got != tt.wantBody {
				t.Errorf("%s %s: JSON body present = %v", name, tt.method, got)
			}
		}
	}
}

func get(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, b)
	}
	return res
}

// A token of a sign-in carries its id as "sid", and verification hands it
// back; a token without one has none.
func TestSessionIDRoundTrip(t *testing.T) {
	f := newFixture(t)
	tok, _, err := f.issuer.IssueSession("42", RolePatient, "FAMILY123")
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeJWTPart(t, tok, 1); c["sid"] != "FAMILY123" {
		t.Fatalf("sid claim %v", c["sid"])
	}
	id, err := f.verifier.Verify(context.Background(), tok)
	if err != nil || id.SessionID != "FAMILY123" {
		t.Fatalf("verified session %q, err %v", id.SessionID, err)
	}
	plain, _, _ := f.issuer.Issue("42", RolePatient)
	if c := decodeJWTPart(t, plain, 1); c["sid"] != nil {
		t.Fatalf("a token without a sign-in has sid %v", c["sid"])
	}
}
