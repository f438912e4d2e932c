package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/auth"
)

// expired re-signs token (same account, role and sign-in) as issued an
// hour ago with a lifetime of a minute: a token that was good and has
// expired, as a client holds one after a while in the background.
func expired(t *testing.T, env *apptest.Env, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Sub, Role, Sid string }
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseKeySetPEM(string(env.Config.SigningKey))
	if err != nil {
		t.Fatal(err)
	}
	old := auth.NewIssuer(auth.IssuerConfig{IssuerURL: env.Config.PublicURL, Audience: env.Config.TokenAudience,
		TTL: time.Minute, Now: func() time.Time { return time.Now().Add(-time.Hour) }}, keys)
	tok, _, err := old.IssueSession(c.Sub, c.Role, c.Sid)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestStaleTokensAreGraphQLErrors: on /graphql, a bearer token that is
// not good is answered as every other GraphQL error (HTTP 200, code
// UNAUTHENTICATED), with the reason that tells an auth link whether to
// refresh (TOKEN_EXPIRED) or to sign in again (TOKEN_INVALID); the
// sign-in mutations and refreshSession run with such a header, ignoring it.
func TestStaleTokensAreGraphQLErrors(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	_, _, email := env.Patient("Lia")
	p := signIn(t, env, email)
	old := expired(t, env, p.Token)
	ended := signIn(t, env, email)
	if r := env.Do("", logoutOp, map[string]any{"t": ended.RefreshToken}); r.Code() != "" {
		t.Fatalf("logout: %+v", r.Errors)
	}

	const doctorsOp = `{ doctors(first: 1) { totalCount } }`
	for _, tc := range []struct {
		name, token, query, reason string
	}{
		{"expired, signed-in field", old, viewerOp, "TOKEN_EXPIRED"},
		{"expired, public query", old, doctorsOp, "TOKEN_EXPIRED"},
		{"expired, mutation not only of public fields", old,
			`mutation($t: String!) { refreshSession(refreshToken: $t) { token } markAllNotificationsRead }`, "TOKEN_EXPIRED"},
		{"garbage", "abc.def.ghi", viewerOp, "TOKEN_INVALID"},
		{"sign-in ended", ended.Token, viewerOp, "TOKEN_INVALID"},
		{"expired, sign-in ended", expired(t, env, ended.Token), viewerOp, "TOKEN_EXPIRED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(tc.token, tc.query, map[string]any{"t": p.RefreshToken})
			if r.Status != http.StatusOK || r.Code() != "UNAUTHENTICATED" || r.Ext("reason") != tc.reason {
				t.Fatalf("status %d, errors %+v; want 200 UNAUTHENTICATED/%s", r.Status, r.Errors, tc.reason)
			}
		})
	}
	// Without a token, a signed-in field answers the same code, without
	// a reason; a public one answers.
	if r := env.Do("", `{ appointments { totalCount } }`, nil); r.Status != http.StatusOK || r.Code() != "UNAUTHENTICATED" || r.Ext("reason") != "" {
		t.Fatalf("anonymous: %d %+v", r.Status, r.Errors)
	}
	if r := env.Do("", doctorsOp, nil); r.Code() != "" {
		t.Fatalf("anonymous search: %+v", r.Errors)
	}

	// refreshSession with the stale header it still holds, as an auth link
	// sends it; then the new token works.
	for _, stale := range []string{old, "abc.def.ghi"} {
		var out struct{ RefreshSession pair }
		env.Do(stale, refreshOp, map[string]any{"t": p.RefreshToken}).Decode(t, &out)
		if whoAmI(env, out.RefreshSession.Token) != email {
			t.Fatal("the refreshed token does not sign in")
		}
		p = out.RefreshSession
	}
	// So do the sign-ins and logout.
	var login struct{ LoginPatient pair }
	env.Do(old, loginPairOp, map[string]any{"login": email, "pw": "correct horse battery"}).Decode(t, &login)
	var out struct{ Logout bool }
	env.Do(old, logoutOp, map[string]any{"t": login.LoginPatient.RefreshToken}).Decode(t, &out)

	// An upload with an expired token: the same answer, before the body is
	// read.
	up := env.Upload(old, uploadOp, map[string]any{"in": map[string]any{"title": "x", "category": "EXAM"}},
		apptest.File{Name: "a.txt", Content: []byte("hello")})
	if up.Status != http.StatusOK || up.Code() != "UNAUTHENTICATED" || up.Ext("reason") != "TOKEN_EXPIRED" {
		t.Fatalf("upload: %d %+v", up.Status, up.Errors)
	}

	// The routes beside /graphql are plain HTTP resources: 401, with the
	// same code and reason in the body.
	status, body := export(t, env, old)
	if status != http.StatusUnauthorized || !strings.Contains(string(body), `"reason":"TOKEN_EXPIRED"`) {
		t.Fatalf("export with an expired token: %d %s", status, body)
	}
}

// TestSocketInitShapes: a socket signs in with the token in any of the
// connection_init shapes clients use, and the headers of its upgrade
// request (an expired token a native client left there) do not count.
func TestSocketInitShapes(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	doc, _ := env.Doctor("Dr. Shapes", "Cardiology", -23.5, -46.6)
	stale := http.Header{"Authorization": {"Bearer " + expired(t, env, doc)}}
	for i, payload := range []map[string]any{
		{"token": doc},
		{"authToken": "Bearer " + doc},
		{"headers": map[string]any{"Authorization": "Bearer " + doc}},
	} {
		w, _, err := env.DialWSWith(t, apptest.TransportWS, stale, payload)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := w.Next(5 * time.Second); err != nil || m.Type != "connection_ack" {
			t.Fatalf("init %v: %+v %v", payload, m, err)
		}
		w.SubscribeLive("1", agendaSmallSub, nil)
		slot := createSlot(t, env, doc, tomorrowAt(8+i), 30)
		if got := nextPayload(t, w, "1"); !strings.Contains(got, slot) {
			t.Fatalf("init %v: event %s, want slot %s", payload, got, slot)
		}
	}
}
