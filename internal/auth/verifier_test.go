package auth

import (
	"context"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// hsJWT signs with HMAC-SHA256 under secret: the algorithm-confusion
// attack, where the verifier's public key is used as the HMAC secret.
func hsJWT(t *testing.T, header, claims map[string]any, secret []byte) string {
	t.Helper()
	unsigned := strings.TrimSuffix(rawJWT(t, header, claims, nil), ".")
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifyOwnTokens(t *testing.T) {
	f := newFixture(t)
	priv := f.keys.keys[0].priv
	kid := f.keys.KeyIDs()[0]
	other := newECKey(t, elliptic.P256())

	good, exp, err := f.issuer.Issue("42", RoleDoctor)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	sign := func(edit func(map[string]any)) string {
		return signJWT(t, priv, jose.ES256, kid, "at+jwt", ownClaims(edit))
	}
	expiredTok, _, err := NewIssuer(IssuerConfig{IssuerURL: testIssuer, Audience: testAudience,
		Now: func() time.Time { return testNow.Add(-time.Hour) }}, f.keys).Issue("42", RoleDoctor)
	if err != nil {
		t.Fatal(err)
	}
	sigFlipped := func(tok string) string {
		b := []byte(tok)
		i := strings.LastIndexByte(tok, '.') + 5
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	hdr := func(alg string) map[string]any { return map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"} }
	goodParts := strings.Split(good, ".")
	noneHdr, _ := json.Marshal(hdr("none"))

	tests := []struct {
		name string
		tok  string
		want *Identity // nil: must be rejected
	}{
		{"good", good, &Identity{Issuer: testIssuer, Subject: "42", Role: RoleDoctor, ExpiresAt: exp}},
		{"hand-signed good", sign(func(c map[string]any) { c["role"] = RolePatient }),
			&Identity{Issuer: testIssuer, Subject: "42", Role: RolePatient, ExpiresAt: testNow.Add(15 * time.Minute)}},
		{"nbf within go-oidc's skew leeway", sign(func(c map[string]any) { c["nbf"] = testNow.Add(4 * time.Minute).Unix() }),
			&Identity{Issuer: testIssuer, Subject: "42", Role: RoleDoctor, ExpiresAt: testNow.Add(15 * time.Minute)}},

		{"expired", expiredTok, nil},
		{"expired by one second", sign(func(c map[string]any) { c["exp"] = testNow.Add(-time.Second).Unix() }), nil},
		{"no exp", sign(func(c map[string]any) { delete(c, "exp") }), nil},
		{"not yet valid", sign(func(c map[string]any) { c["nbf"] = testNow.Add(10 * time.Minute).Unix() }), nil},
		{"wrong issuer", sign(func(c map[string]any) { c["iss"] = "https://evil.example" }), nil},
		{"issuer with trailing slash", sign(func(c map[string]any) { c["iss"] = testIssuer + "/" }), nil},
		{"no issuer", sign(func(c map[string]any) { delete(c, "iss") }), nil},
		{"wrong audience", sign(func(c map[string]any) { c["aud"] = "other-api" }), nil},
		{"no audience", sign(func(c map[string]any) { delete(c, "aud") }), nil},
		{"tampered signature", sigFlipped(good), nil},
		{"tampered payload", withClaims(t, good, func(c map[string]any) { c["role"] = RoleAdmin }), nil},
		{"tampered subject", withClaims(t, good, func(c map[string]any) { c["sub"] = "43" }), nil},
		{"signature removed", strings.Join(goodParts[:2], ".") + ".", nil},
		{"alg none", rawJWT(t, hdr("none"), ownClaims(nil), nil), nil},
		{"alg none keeping a valid signature", base64.RawURLEncoding.EncodeToString(noneHdr) + "." + goodParts[1] + "." + goodParts[2], nil},
		{"HS256 with public key PEM as secret", hsJWT(t, hdr("HS256"), ownClaims(nil), pubPEM), nil},
		{"HS256 with public key DER as secret", hsJWT(t, hdr("HS256"), ownClaims(nil), pubDER), nil},
		{"unknown kid, other key", signJWT(t, other, jose.ES256, "rotated-away", "at+jwt", ownClaims(nil)), nil},
		{"our kid, other key", signJWT(t, other, jose.ES256, kid, "at+jwt", ownClaims(nil)), nil},
		{"our key, unknown kid", signJWT(t, priv, jose.ES256, "not-ours", "at+jwt", ownClaims(nil)), nil},
		{"our key, no kid", signJWT(t, priv, jose.ES256, "", "at+jwt", ownClaims(nil)), nil},
		{"not an access token type", signJWT(t, priv, jose.ES256, kid, "JWT", ownClaims(nil)), nil},
		{"no type", signJWT(t, priv, jose.ES256, kid, "", ownClaims(nil)), nil},
		{"missing role", sign(func(c map[string]any) { delete(c, "role") }), nil},
		{"unknown role", sign(func(c map[string]any) { c["role"] = "superuser" }), nil},
		{"role not a string", sign(func(c map[string]any) { c["role"] = []string{RoleDoctor} }), nil},
		{"missing subject", sign(func(c map[string]any) { delete(c, "sub") }), nil},
		{"empty", "", nil},
		{"garbage", "not a token", nil},
		{"two parts", goodParts[0] + "." + goodParts[1], nil},
		{"five parts (JWE)", good + ".a.b", nil},
		{"padding in segment", goodParts[0] + "==." + goodParts[1] + "." + goodParts[2], nil},
		{"JSON serialization", `{"payload":"` + goodParts[1] + `","protected":"` + goodParts[0] + `","signature":"` + goodParts[2] + `"}`, nil},
		{"oversized", sign(func(c map[string]any) { c["pad"] = strings.Repeat("x", maxTokenBytes) }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.verifier.Verify(context.Background(), tt.tok)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("error %v does not wrap ErrUnauthenticated", err)
				}
				if got != (Identity{}) {
					t.Errorf("rejected token still yields %+v", got)
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
}

// Rotation: a token signed by a key that is no longer first still verifies
// while the key stays in the set, and stops once it is removed.
func TestVerifyAcrossKeyRotation(t *testing.T) {
	oldKey, newKey := newECKey(t, elliptic.P256()), newECKey(t, elliptic.P256())
	before, err := ParseKeySetPEM(pkcs8PEM(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	during, err := ParseKeySetPEM(pkcs8PEM(t, newKey) + pkcs8PEM(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseKeySetPEM(pkcs8PEM(t, newKey))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return testNow }
	tok, _, err := NewIssuer(IssuerConfig{IssuerURL: testIssuer, Audience: testAudience, Now: clock}, before).Issue("9", RolePatient)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		keys *KeySet
		ok   bool
	}{{"during", during, true}, {"after", after, false}} {
		v, err := NewVerifier(context.Background(), VerifierConfig{Issuer: testIssuer, Audience: testAudience, Keys: tt.keys, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), tok)
		if (err == nil) != tt.ok {
			t.Errorf("%s rotation: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	keys, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  VerifierConfig
	}{
		{"no issuer", VerifierConfig{Audience: testAudience, Keys: keys}},
		{"no audience", VerifierConfig{Issuer: testIssuer, Keys: keys}},
		{"no keys", VerifierConfig{Issuer: testIssuer, Audience: testAudience}},
		{"empty key set", VerifierConfig{Issuer: testIssuer, Audience: testAudience, Keys: &KeySet{}}},
		{"external without audience", VerifierConfig{Issuer: testIssuer, Audience: testAudience, Keys: keys,
			External: &ExternalConfig{Issuer: "https://idp.example"}}},
		{"external without issuer", VerifierConfig{Issuer: testIssuer, Audience: testAudience, Keys: keys,
			External: &ExternalConfig{Audience: "x"}}},
		{"external with our issuer", VerifierConfig{Issuer: testIssuer, Audience: testAudience, Keys: keys,
			External: &ExternalConfig{Issuer: testIssuer, Audience: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(context.Background(), tt.cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"BeArEr   abc  ", "abc", true},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearerabc", "", false},
		{"Bearer abc def", "", false},
		{"Token abc", "", false},
		{" Bearer abc", "", false},
	}
	for _, tt := range tests {
		got, ok := BearerToken(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
