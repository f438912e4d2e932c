package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ErrUnauthenticated is wrapped by every error that means "this token does
// not prove who the caller is". Callers answer 401 and need not log it.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrProviderUnavailable means the external provider's discovery document
// could not be fetched, so its tokens cannot be checked right now. It does
// not wrap ErrUnauthenticated: the token may be fine and the outage is
// worth an operator's attention. The request is still refused.
var ErrProviderUnavailable = errors.New("auth: external identity provider unavailable")

// Identity is what a verified token proves.
type Identity struct {
	Issuer  string
	Subject string
	Role    string
	// Email is the external provider's identity claim, lower-cased; empty
	// for the server's own tokens, whose Subject is the account id.
	Email string
	// EmailVerified says the provider vouches for Email: the identity
	// claim is "email" and the token carries email_verified=true.
	EmailVerified bool
	External      bool
	ExpiresAt     time.Time
	// SessionID is the sign-in of one of the server's own tokens, when it
	// names one.
	SessionID string
}

// ExternalConfig names one external OpenID Connect provider whose access
// tokens are accepted.
type ExternalConfig struct {
	// Issuer must be exactly the provider's "iss"; its discovery document
	// is at Issuer + "/.well-known/openid-configuration".
	Issuer string
	// Audience must appear in the token's "aud".
	Audience string
	// RoleClaim is the top-level string claim holding "doctor", "patient"
	// or "admin"; DefaultRoleClaim when empty.
	RoleClaim string
	// IdentityClaim is the top-level string claim the application may
	// match with an account's e-mail; DefaultIdentityClaim when empty. Only
	// "email" with email_verified=true counts as a verified e-mail (see
	// Identity.EmailVerified): anyone able to sign up at the provider with
	// somebody else's address must not become them here.
	IdentityClaim string
	// HTTPClient fetches discovery and keys; a client with a 10 s timeout
	// when nil (go-oidc would otherwise use one without any timeout).
	HTTPClient *http.Client
}

// Defaults for ExternalConfig.
const (
	DefaultRoleClaim     = "healthmed_role"
	DefaultIdentityClaim = "email"
)

// VerifierConfig configures which tokens are accepted.
type VerifierConfig struct {
	// Issuer and Audience of the server's own tokens: the same values the
	// Issuer was given.
	Issuer   string
	Audience string
	// Keys verify the server's own tokens, locally.
	Keys *KeySet
	// External is the optional external provider.
	External *ExternalConfig
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// maxTokenBytes bounds what is decoded before the signature is checked.
// Generous for provider tokens full of groups, tiny next to a header limit.
const maxTokenBytes = 16 << 10

const (
	externalHTTPTimeout = 10 * time.Second
	// discoveryRetry spaces attempts while the provider is down, so a burst
	// of its tokens does not become a burst of requests to it.
	discoveryRetry = 10 * time.Second
)

// Verifier checks bearer tokens. Each token is routed by its (not yet
// trusted) "iss" to exactly one go-oidc verifier, which then checks
// signature, issuer, audience and validity period. go-oidc allows a token
// whose "nbf" is up to five minutes ahead, for clock skew; "exp" has no
// leeway.
type Verifier struct {
	issuer string
	keys   *KeySet
	own    *oidc.IDTokenVerifier
	ext    *externalVerifier
	now    func() time.Time

	// verified remembers the server's own tokens already verified, by
	// their whole text (signature included), until they expire: a client
	// sends the same token with every request for its lifetime, and
	// checking an ES256 signature costs more CPU than the rest of a
	// small request's authentication.
	mu       sync.Mutex
	verified map[string]Identity
}

// maxVerified bounds the tokens remembered; past it the memory starts
// afresh.
const maxVerified = 4096

// NewVerifier builds the verifier. It makes no network call: the external
// provider is discovered on its first token, so the server starts (and
// serves its own tokens) while the provider is down.
func NewVerifier(ctx context.Context, cfg VerifierConfig) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: verifier needs the issuer and audience of the server's tokens")
	}
	if cfg.Keys == nil || len(cfg.Keys.keys) == 0 {
		return nil, errors.New("auth: verifier needs the server's keys")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{
		issuer: cfg.Issuer,
		keys:   cfg.Keys,
		now:    cfg.Now,
		// A static key set: our own tokens are checked without an HTTP
		// round trip to ourselves.
		own: oidc.NewVerifier(cfg.Issuer, &oidc.StaticKeySet{PublicKeys: cfg.Keys.publicKeys()}, &oidc.Config{
			ClientID:             cfg.Audience,
			SupportedSigningAlgs: []string{oidc.ES256},
			Now:                  cfg.Now,
		}),
	}
	if e := cfg.External; e != nil {
		ext := *e
		if ext.Issuer == "" || ext.Audience == "" {
			return nil, errors.New("auth: external provider needs an issuer and an audience")
		}
		if ext.Issuer == cfg.Issuer {
			return nil, errors.New("auth: external provider cannot share the server's issuer")
		}
		if ext.RoleClaim == "" {
			ext.RoleClaim = DefaultRoleClaim
		}
		if ext.IdentityClaim == "" {
			ext.IdentityClaim = DefaultIdentityClaim
		}
		if ext.HTTPClient == nil {
			ext.HTTPClient = &http.Client{Timeout: externalHTTPTimeout}
		}
		v.ext = &externalVerifier{
			cfg: ext,
			// Detached from ctx's cancellation: go-oidc keeps this context
			// for the life of the key set.
			base: oidc.ClientContext(context.WithoutCancel(ctx), ext.HTTPClient),
			now:  cfg.Now,
		}
	}
	return v, nil
}

// Verify checks raw and returns the identity it proves. Every rejection
// wraps ErrUnauthenticated; only an unreachable external provider returns
// ErrProviderUnavailable instead.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	if len(raw) > maxTokenBytes {
		return Identity{}, unauthenticated("token too large", nil)
	}
	hdr, iss, err := peek(raw)
	if err != nil {
		return Identity{}, unauthenticated("malformed token", err)
	}
	switch {
	case iss == v.issuer:
		return v.verifyOwn(ctx, raw, hdr)
	case v.ext != nil && iss == v.ext.cfg.Issuer:
		return v.ext.verify(ctx, raw)
	default:
		return Identity{}, unauthenticated("unknown issuer", nil)
	}
}

func (v *Verifier) verifyOwn(ctx context.Context, raw string, hdr joseHeader) (Identity, error) {
	// StaticKeySet tries every key regardless of "kid"; insisting on a kid
	// we hold keeps the check exact and the error clear.
	if hdr.Kid == "" || !v.keys.has(hdr.Kid) {
		return Identity{}, unauthenticated("unknown key id", nil)
	}
	if !isAccessTokenType(hdr.Typ) {
		return Identity{}, unauthenticated("not an access token", nil)
	}
	v.mu.Lock()
	id, ok := v.verified[raw]
	v.mu.Unlock()
	if ok && v.now().Before(id.ExpiresAt) {
		return id, nil
	}
	tok, err := v.own.Verify(ctx, raw)
	if err != nil {
		return Identity{}, unauthenticated("invalid token", err)
	}
	var c roleClaims
	if err := tok.Claims(&c); err != nil {
		return Identity{}, unauthenticated("invalid claims", err)
	}
	if !validRole(c.Role) {
		return Identity{}, unauthenticated("missing or unknown role", nil)
	}
	if tok.Subject == "" {
		return Identity{}, unauthenticated("missing subject", nil)
	}
	id = Identity{Issuer: tok.Issuer, Subject: tok.Subject, Role: c.Role, ExpiresAt: tok.Expiry, SessionID: c.SessionID}
	v.mu.Lock()
	if v.verified == nil || len(v.verified) >= maxVerified {
		v.verified = map[string]Identity{}
	}
	v.verified[raw] = id
	v.mu.Unlock()
	return id, nil
}

type externalVerifier struct {
	cfg  ExternalConfig
	base context.Context
	now  func() time.Time

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	err      error
	retryAt  time.Time
}

// get discovers the provider once. Holding the lock across the request
// makes concurrent first tokens share one discovery; the HTTP client's
// timeout bounds the wait.
func (e *externalVerifier) get() (*oidc.IDTokenVerifier, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.verifier != nil {
		return e.verifier, nil
	}
	if time.Now().Before(e.retryAt) {
		return nil, e.err
	}
	p, err := oidc.NewProvider(e.base, e.cfg.Issuer)
	if err != nil {
		e.err = fmt.Errorf("%w: %w", ErrProviderUnavailable, err)
		e.retryAt = time.Now().Add(discoveryRetry)
		return nil, e.err
	}
	// Algorithms come from discovery, filtered by go-oidc to asymmetric
	// ones: "none" and HMAC can never be accepted.
	e.verifier = p.Verifier(&oidc.Config{ClientID: e.cfg.Audience, Now: e.now})
	return e.verifier, nil
}

func (e *externalVerifier) verify(ctx context.Context, raw string) (Identity, error) {
	ov, err := e.get()
	if err != nil {
		return Identity{}, err
	}
	tok, err := ov.Verify(ctx, raw)
	if err != nil {
		return Identity{}, unauthenticated("invalid external token", err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, unauthenticated("invalid external claims", err)
	}
	role, _ := claims[e.cfg.RoleClaim].(string)
	if !validRole(role) {
		return Identity{}, unauthenticated("missing or unknown role", nil)
	}
	ident, _ := claims[e.cfg.IdentityClaim].(string)
	ident = strings.ToLower(strings.TrimSpace(ident))
	if ident == "" {
		return Identity{}, unauthenticated("missing identity claim", nil)
	}
	if tok.Subject == "" {
		return Identity{}, unauthenticated("missing subject", nil)
	}
	return Identity{
		Issuer: tok.Issuer, Subject: tok.Subject, Role: role, Email: ident,
		EmailVerified: e.cfg.IdentityClaim == "email" && emailVerified(claims["email_verified"]),
		External:      true, ExpiresAt: tok.Expiry,
	}, nil
}

// emailVerified accepts the boolean the spec defines and the string some
// providers (Cognito among them) have been known to send.
func emailVerified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// peek decodes a compact JWS's header and "iss" without checking anything
// else. The result only chooses which verifier checks the token for real.
func peek(raw string) (joseHeader, string, error) {
	var h joseHeader
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return h, "", errors.New("not a compact JWS")
	}
	if err := decodeSegment(parts[0], &h); err != nil {
		return h, "", fmt.Errorf("header: %w", err)
	}
	var p struct {
		Iss string `json:"iss"`
	}
	if err := decodeSegment(parts[1], &p); err != nil {
		return h, "", fmt.Errorf("payload: %w", err)
	}
	return h, p.Iss, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == accessTokenType || typ == "application/"+accessTokenType
}

// Expired tells a token refused for its expiry alone from any other
// refusal: go-oidc checks the signature, issuer and audience first, so
// the token was good until then and a refreshed one will do.
func Expired(err error) bool {
	var exp *oidc.TokenExpiredError
	return errors.As(err, &exp)
}

func unauthenticated(reason string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%w: %s", ErrUnauthenticated, reason)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnauthenticated, reason, cause)
}
