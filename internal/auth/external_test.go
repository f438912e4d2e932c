package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	extAudience = "healthmed-api"
	extKID      = "idp-key-1"
)

// testProvider is a minimal OpenID provider: discovery and JWKS, with an
// RSA key as Keycloak and Cognito use by default.
type testProvider struct {
	srv             *httptest.Server
	key             *rsa.PrivateKey
	discoveryHits   atomic.Int32
	jwksHits        atomic.Int32
	discoveryBroken atomic.Bool
}

func newTestProvider(t *testing.T) *testProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testProvider{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		p.discoveryHits.Add(1)
		if p.discoveryBroken.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                p.srv.URL,
			"jwks_uri":                              p.srv.URL + "/protocol/openid-connect/certs",
			"authorization_endpoint":                p.srv.URL + "/protocol/openid-connect/auth",
			"token_endpoint":                        p.srv.URL + "/protocol/openid-connect/token",
			"id_token_signing_alg_values_supported": []string{"RS256", "HS256", "none"},
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("/protocol/openid-connect/certs", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: extKID, Algorithm: "RS256", Use: "sig"},
		}})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// token signs claims the way the provider would, over defaults that make a
// valid patient token.
func (p *testProvider) token(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	c := map[string]any{
		"iss":            p.srv.URL,
		"sub":            "f3a1c2d4-0000-4000-8000-000000000001",
		"aud":            []string{extAudience, "account"},
		"iat":            testNow.Unix(),
		"exp":            testNow.Add(5 * time.Minute).Unix(),
		"email":          "Ana.Souza@Example.COM",
		"email_verified": true,
		"healthmed_role": RolePatient,
	}
	if edit != nil {
		edit(c)
	}
	return signJWT(t, p.key, jose.RS256, extKID, "JWT", c)
}

func newExternalVerifier(t *testing.T, p *testProvider, ext ExternalConfig) (*Verifier, *fixture) {
	t.Helper()
	f := newFixture(t)
	ext.Issuer = p.srv.URL
	if ext.Audience == "" {
		ext.Audience = extAudience
	}
	ext.HTTPClient = p.srv.Client()
	v, err := NewVerifier(context.Background(), VerifierConfig{
		Issuer: testIssuer, Audience: testAudience, Keys: f.keys, External: &ext,
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, f
}

func TestVerifyExternalTokens(t *testing.T) {
	p := newTestProvider(t)
	v, f := newExternalVerifier(t, p, ExternalConfig{})
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := p.token(t, nil)
	// The provider's exp, not ours: 5 minutes.
	want := &Identity{Issuer: p.srv.URL, Subject: "f3a1c2d4-0000-4000-8000-000000000001", Role: RolePatient,
		Email: "ana.souza@example.com", EmailVerified: true, External: true, ExpiresAt: testNow.Add(5 * time.Minute)}
	// A token whose e-mail the provider does not vouch for still proves
	// its subject, which an explicit link may name; it is never matched
	// by e-mail.
	unverified := *want
	unverified.EmailVerified = false
	ownKey := f.keys.keys[0].priv

	tests := []struct {
		name string
		tok  string
		want *Identity
	}{
		{"good", good, want},
		{"doctor, single audience string", p.token(t, func(c map[string]any) {
			c["aud"] = extAudience
			c["healthmed_role"] = RoleDoctor
		}), &Identity{Issuer: p.srv.URL, Subject: want.Subject, Role: RoleDoctor, Email: want.Email, EmailVerified: true, External: true, ExpiresAt: want.ExpiresAt}},
		{"email_verified as string", p.token(t, func(c map[string]any) { c["email_verified"] = "true" }), want},

		{"wrong audience", p.token(t, func(c map[string]any) { c["aud"] = "account" }), nil},
		{"our audience instead of theirs", p.token(t, func(c map[string]any) { c["aud"] = testAudience }), nil},
		{"expired", p.token(t, func(c map[string]any) { c["exp"] = testNow.Add(-time.Minute).Unix() }), nil},
		{"missing role", p.token(t, func(c map[string]any) { delete(c, "healthmed_role") }), nil},
		{"unknown role", p.token(t, func(c map[string]any) { c["healthmed_role"] = "nurse" }), nil},
		{"role in our claim name only", p.token(t, func(c map[string]any) {
			delete(c, "healthmed_role")
			c["role"] = RoleDoctor
		}), nil},
		{"missing email", p.token(t, func(c map[string]any) { delete(c, "email") }), nil},
		{"blank email", p.token(t, func(c map[string]any) { c["email"] = "  " }), nil},
		{"email not verified", p.token(t, func(c map[string]any) { c["email_verified"] = false }), &unverified},
		{"email_verified absent", p.token(t, func(c map[string]any) { delete(c, "email_verified") }), &unverified},
		{"email_verified as another string", p.token(t, func(c map[string]any) { c["email_verified"] = "yes" }), &unverified},
		{"missing subject", p.token(t, func(c map[string]any) { delete(c, "sub") }), nil},
		{"tampered role", withClaims(t, good, func(c map[string]any) { c["healthmed_role"] = RoleDoctor }), nil},
		{"signed by another key under the provider's kid", signJWT(t, otherRSA, jose.RS256, extKID, "JWT",
			decodeJWTPart(t, good, 1)), nil},
		{"HS256 with the provider's advertised alg list", hsJWT(t, map[string]any{"alg": "HS256", "kid": extKID},
			decodeJWTPart(t, good, 1), []byte("secret")), nil},
		{"alg none", rawJWT(t, map[string]any{"alg": "none"}, decodeJWTPart(t, good, 1), nil), nil},
		// A provider token claiming to be ours goes to our verifier and fails there.
		{"provider key, our issuer", p.token(t, func(c map[string]any) {
			c["iss"] = testIssuer
			c["aud"] = testAudience
			c["role"] = RoleAdmin
		}), nil},
		// And our key cannot mint provider tokens.
		{"our key, provider issuer", signJWT(t, ownKey, jose.ES256, extKID, "JWT", decodeJWTPart(t, good, 1)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tt.tok)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("error %v does not wrap ErrUnauthenticated", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !got.ExpiresAt.Equal(tt.want.ExpiresAt) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tt.want.ExpiresAt)
			}
			got.ExpiresAt = tt.want.ExpiresAt
			if got != *tt.want {
				t.Errorf("Verify = %+v, want %+v", got, *tt.want)
			}
		})
	}

	// Own tokens still work beside the provider.
	own, _, err := f.issuer.Issue("5", RoleDoctor)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.Verify(context.Background(), own); err != nil || id.External || id.Subject != "5" {
		t.Errorf("own token with a provider configured: %+v, %v", id, err)
	}
	if n := p.discoveryHits.Load(); n != 1 {
		t.Errorf("discovery fetched %d times, want once", n)
	}
}

func TestVerifyExternalCustomClaims(t *testing.T) {
	p := newTestProvider(t)
	v, _ := newExternalVerifier(t, p, ExternalConfig{RoleClaim: "app_role", IdentityClaim: "preferred_username"})
	tok := p.token(t, func(c map[string]any) {
		delete(c, "healthmed_role")
		c["app_role"] = RoleDoctor
		c["preferred_username"] = "Dr.House"
	})
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	// A claim other than the e-mail is never a verified e-mail, whatever
	// email_verified says.
	if id.Role != RoleDoctor || id.Email != "dr.house" || !id.External || id.EmailVerified {
		t.Errorf("Verify = %+v", id)
	}
	// The default role claim means nothing under this configuration.
	if _, err := v.Verify(context.Background(), p.token(t, nil)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("token with only the default claims: err = %v", err)
	}
}

func TestVerifyExternalProviderDown(t *testing.T) {
	p := newTestProvider(t)
	p.discoveryBroken.Store(true)
	v, f := newExternalVerifier(t, p, ExternalConfig{})
	tok := p.token(t, nil)

	for range 3 {
		_, err := v.Verify(context.Background(), tok)
		if !errors.Is(err, ErrProviderUnavailable) || errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("err = %v, want ErrProviderUnavailable only", err)
		}
	}
	if n := p.discoveryHits.Load(); n != 1 {
		t.Errorf("discovery tried %d times within the retry interval, want 1", n)
	}
	own, _, err := f.issuer.Issue("5", RolePatient)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), own); err != nil {
		t.Errorf("own token refused while the provider is down: %v", err)
	}

	// Once the retry interval has passed, the provider is tried again.
	p.discoveryBroken.Store(false)
	v.ext.mu.Lock()
	v.ext.retryAt = time.Time{}
	v.ext.mu.Unlock()
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// An unknown issuer is refused without any request to anybody.
func TestVerifyUnknownIssuerMakesNoRequest(t *testing.T) {
	p := newTestProvider(t)
	v, _ := newExternalVerifier(t, p, ExternalConfig{})
	tok := p.token(t, func(c map[string]any) { c["iss"] = p.srv.URL + "/other-realm" })
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("err = %v", err)
	}
	if d, j := p.discoveryHits.Load(), p.jwksHits.Load(); d != 0 || j != 0 {
		t.Errorf("provider contacted (%d discovery, %d jwks) for a token it did not issue", d, j)
	}
}
