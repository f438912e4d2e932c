package apptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/healthmed/healthmed/internal/config"
)

// OIDCProvider is an external OpenID provider as the server sees one:
// discovery and keys over HTTP, and tokens signed on demand.
type OIDCProvider struct {
	URL      string
	Audience string
	key      *ecdsa.PrivateKey
}

// NewOIDCProvider starts a provider for the test.
func NewOIDCProvider(t testing.TB) *OIDCProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &OIDCProvider{Audience: "healthmed-api", key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.URL, "jwks_uri": p.URL + "/certs",
			"authorization_endpoint": p.URL + "/auth", "token_endpoint": p.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"ES256"},
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("/certs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"},
		}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Configure points the server at the provider.
func (p *OIDCProvider) Configure() Option {
	return WithConfig(func(c *config.Config) {
		c.ExternalOIDC = config.OIDC{Issuer: p.URL, Audience: p.Audience, RoleClaim: "healthmed_role", IdentityClaim: "email"}
	})
}

// Token signs an access token of subject with role and e-mail; extra
// claims are added or replace the defaults.
func (p *OIDCProvider) Token(t testing.TB, subject, role, email string, verified bool) string {
	t.Helper()
	claims := map[string]any{
		"iss": p.URL, "sub": subject, "aud": p.Audience,
		"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(),
		"email": email, "email_verified": verified, "healthmed_role": role,
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
