package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	testIssuer   = "https://api.healthmed.test"
	testAudience = "healthmed"
)

var testNow = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

type fixture struct {
	keys     *KeySet
	issuer   *Issuer
	verifier *Verifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	keys, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	v, err := NewVerifier(context.Background(), VerifierConfig{
		Issuer: testIssuer, Audience: testAudience, Keys: keys, Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		keys:     keys,
		issuer:   NewIssuer(IssuerConfig{IssuerURL: testIssuer, Audience: testAudience, Now: clock}, keys),
		verifier: v,
	}
}

// ownClaims are the claims Issue would write at testNow, for cases that
// change one of them.
func ownClaims(edit func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":  testIssuer,
		"sub":  "42",
		"aud":  testAudience,
		"iat":  testNow.Unix(),
		"nbf":  testNow.Unix(),
		"exp":  testNow.Add(15 * time.Minute).Unix(),
		"jti":  "test",
		"role": RoleDoctor,
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// signJWT signs claims as a compact JWS; an empty typ leaves it out.
func signJWT(t *testing.T, key any, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
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

// rawJWT assembles a compact JWS by hand, for what no library will sign.
func rawJWT(t *testing.T, header, claims map[string]any, sig []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return b64(h) + "." + b64(c) + "." + b64(sig)
}

func decodeJWTPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// withClaims re-encodes tok's payload with edit applied, keeping header
// and signature: a tampered token.
func withClaims(t *testing.T, tok string, edit func(map[string]any)) string {
	t.Helper()
	c := maps.Clone(decodeJWTPart(t, tok, 1))
	edit(c)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}
