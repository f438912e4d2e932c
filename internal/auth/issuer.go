package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Roles a token can carry.
const (
	RoleDoctor  = "doctor"
	RolePatient = "patient"
	RoleAdmin   = "admin"
	// RoleRegistrant: a registration waiting for its e-mail link. Only
	// our own tokens carry it (an external provider's never sign one in).
	RoleRegistrant = "registrant"
)

func validRole(r string) bool {
	return r == RoleDoctor || r == RolePatient || r == RoleAdmin || r == RoleRegistrant
}

// DefaultTokenTTL keeps a stolen token useful for minutes, not days; the
// client signs in again (there are no refresh tokens yet).
const DefaultTokenTTL = 15 * time.Minute

// accessTokenType is the JOSE "typ" of our tokens (RFC 9068). The verifier
// requires it, so nothing else ever signed with these keys can pass for an
// access token (RFC 8725, section 3.11).
const accessTokenType = "at+jwt"

// IssuerConfig configures the server's own tokens.
type IssuerConfig struct {
	// IssuerURL is the public base URL, the "iss" claim, and where the
	// discovery document is served. The verifier must be given the same.
	IssuerURL string
	// Audience is the "aud" claim.
	Audience string
	// TTL is how long a token is valid; DefaultTokenTTL when zero.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Issuer signs the server's own access tokens and publishes the keys that
// verify them.
type Issuer struct {
	cfg  IssuerConfig
	keys *KeySet
}

// NewIssuer returns an issuer signing with the first key of keys.
// Misconfiguration (nil keys, empty issuer or audience) surfaces as an
// error from every Issue call, never as a token.
func NewIssuer(cfg IssuerConfig, keys *KeySet) *Issuer {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTokenTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Issuer{cfg: cfg, keys: keys}
}

type roleClaims struct {
	Role string `json:"role"`
	// SessionID ("sid", as in OpenID Connect) names the sign-in the token
	// belongs to, so that ending the sign-in ends its tokens too.
	SessionID string `json:"sid,omitempty"`
}

// Issue signs an access token for subject with role. expiresAt is the
// token's "exp", to the second.
func (i *Issuer) Issue(subject, role string) (token string, expiresAt time.Time, err error) {
	return i.IssueSession(subject, role, "")
}

// IssueSession is Issue for a token of the sign-in sessionID.
func (i *Issuer) IssueSession(subject, role, sessionID string) (token string, expiresAt time.Time, err error) {
	switch {
	case i.keys == nil || len(i.keys.keys) == 0:
		return "", time.Time{}, errors.New("auth: issuer has no signing key")
	case i.cfg.IssuerURL == "" || i.cfg.Audience == "":
		return "", time.Time{}, errors.New("auth: issuer needs an issuer URL and an audience")
	case subject == "":
		return "", time.Time{}, errors.New("auth: token subject is empty")
	case !validRole(role):
		return "", time.Time{}, fmt.Errorf("auth: unknown role %q", role)
	}
	k := i.keys.keys[0]
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.id}},
		(&jose.SignerOptions{}).WithType(accessTokenType),
	)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: signer: %w", err)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: token id: %w", err)
	}
	now := i.cfg.Now().Truncate(time.Second)
	exp := now.Add(i.cfg.TTL)
	std := jwt.Claims{
		Issuer:    i.cfg.IssuerURL,
		Subject:   subject,
		Audience:  jwt.Audience{i.cfg.Audience},
		Expiry:    jwt.NewNumericDate(exp),
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ID:        base64.RawURLEncoding.EncodeToString(jti),
	}
	token, err = jwt.Signed(signer).Claims(std).Claims(roleClaims{Role: role, SessionID: sessionID}).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign token: %w", err)
	}
	return token, exp, nil
}

// Discovery and JWKS paths, relative to the issuer URL.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks.json"
)

// DiscoveryHandler serves the OpenID Connect discovery document, so other
// services can verify our tokens with any stock OIDC library. The server
// has no authorization endpoint (tokens come from the login mutations); the
// document exists to publish the issuer and where its keys are.
func (i *Issuer) DiscoveryHandler() http.Handler {
	doc := map[string]any{
		"issuer":                                i.cfg.IssuerURL,
		"jwks_uri":                              strings.TrimSuffix(i.cfg.IssuerURL, "/") + JWKSPath,
		"id_token_signing_alg_values_supported": []string{string(jose.ES256)},
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "role"},
	}
	return jsonHandler(doc)
}

// JWKSHandler serves the public keys of the key set. Clients may cache it
// for five minutes, so a new key must be published (added to the set but
// not first) at least that long before it starts signing.
func (i *Issuer) JWKSHandler() http.Handler {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	if i.keys != nil {
		set = i.keys.jwks()
	}
	return jsonHandler(set)
}

// jsonHandler serves v, encoded once: both documents are fixed for the
// life of the process.
func jsonHandler(v any) http.Handler {
	body, err := json.Marshal(v)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
