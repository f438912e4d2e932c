package graph_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

const (
	loginPairOp = `mutation($login: String!, $pw: String!) { loginPatient(login: $login, password: $pw) { token expiresAt refreshToken refreshExpiresAt } }`
	refreshOp   = `mutation($t: String!) { refreshSession(refreshToken: $t) { token expiresAt refreshToken refreshExpiresAt } }`
	logoutOp    = `mutation($t: String!) { logout(refreshToken: $t) }`
)

type pair struct{ Token, ExpiresAt, RefreshToken, RefreshExpiresAt string }

func signIn(t *testing.T, env *apptest.Env, login string) pair {
	t.Helper()
	var out struct{ LoginPatient pair }
	env.Do("", loginPairOp, map[string]any{"login": login, "pw": "correct horse battery"}).Decode(t, &out)
	if !strings.HasPrefix(out.LoginPatient.RefreshToken, "hmr_") {
		t.Fatalf("login pair %+v", out.LoginPatient)
	}
	return out.LoginPatient
}

func refresh(env *apptest.Env, token string) (pair, string) {
	r := env.Do("", refreshOp, map[string]any{"t": token})
	var out struct{ RefreshSession pair }
	if r.Code() != "" {
		return pair{}, r.Code()
	}
	r.Decode(env.T, &out)
	return out.RefreshSession, ""
}

func whoAmI(env *apptest.Env, token string) string {
	var out struct{ Viewer *struct{ Email string } }
	r := env.Do(token, viewerOp, nil)
	if r.Code() != "" {
		return ""
	}
	if r.Decode(env.T, &out); out.Viewer == nil {
		return ""
	}
	return out.Viewer.Email
}

func TestRefreshTokensRotateAndReuseSignsOut(t *testing.T) {
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) { c.SessionTTL = 24 * time.Hour }))
	_, _, email := env.Patient("Ana")
	first := signIn(t, env, email)

	second, code := refresh(env, first.RefreshToken)
	if code != "" || second.RefreshToken == first.RefreshToken || second.Token == "" {
		t.Fatalf("refresh: %q %+v", code, second)
	}
	if whoAmI(env, second.Token) != email {
		t.Fatal("the refreshed access token does not sign in")
	}
	// The sign-in keeps its end, however often it is refreshed.
	if second.RefreshExpiresAt != first.RefreshExpiresAt {
		t.Fatalf("refresh moved the sign-in's end: %s -> %s", first.RefreshExpiresAt, second.RefreshExpiresAt)
	}
	third, code := refresh(env, second.RefreshToken)
	if code != "" {
		t.Fatalf("second refresh: %q", code)
	}

	// The first token again, past the reuse window: stolen, or replayed.
	// The whole sign-in ends, the current token included; another sign-in
	// is untouched.
	other := signIn(t, env, email)
	clock.Advance(env.Config.RefreshReuseWindow + time.Second)
	if _, code := refresh(env, first.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("reused refresh token: %q", code)
	}
	if _, code := refresh(env, third.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("the sign-in survived the reuse of one of its tokens: %q", code)
	}
	if whoAmI(env, third.Token) != "" {
		t.Fatal("the revoked sign-in's access token still works")
	}
	if whoAmI(env, other.Token) != email {
		t.Fatal("another sign-in's access token stopped working")
	}
	if _, code := refresh(env, other.RefreshToken); code != "" {
		t.Fatalf("another sign-in of the same account was revoked: %q", code)
	}

	// Expiry, on the server's clock.
	late := signIn(t, env, email)
	clock.Advance(24 * time.Hour)
	if _, code := refresh(env, late.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("expired sign-in refreshed: %q", code)
	}
	for _, garbage := range []string{"", "hmr_", "hmr_x", late.Token, strings.Repeat("hmr_a", 100)} {
		if _, code := refresh(env, garbage); code != "UNAUTHENTICATED" {
			t.Fatalf("refresh with %.20q: %q", garbage, code)
		}
	}

	// Only digests are stored.
	rows, err := env.DB.SQL.Query(`SELECT token_hash, family FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h, f string
		if err := rows.Scan(&h, &f); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{first.RefreshToken, second.RefreshToken, third.RefreshToken, other.RefreshToken} {
			if strings.Contains(tok, h) || strings.Contains(h, strings.TrimPrefix(tok, "hmr_")) {
				t.Fatal("a refresh token is stored in clear")
			}
		}
	}
}

func TestLogoutAndDeactivationEndSignIns(t *testing.T) {
	env := apptest.New(t)
	_, _, email := env.Patient("Bia")
	a, b := signIn(t, env, email), signIn(t, env, email)
	var out struct{ Logout bool }
	env.Do("", logoutOp, map[string]any{"t": a.RefreshToken}).Decode(t, &out)
	if !out.Logout {
		t.Fatal("logout answered false")
	}
	if _, code := refresh(env, a.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("refresh after logout: %q", code)
	}
	// Logout ends the sign-in's access token at once, and only its own.
	if whoAmI(env, a.Token) != "" {
		t.Fatal("the access token outlived its logout")
	}
	if whoAmI(env, b.Token) != email {
		t.Fatal("logout of one sign-in ended another")
	}
	// Logout of something meaningless answers the same.
	env.Do("", logoutOp, map[string]any{"t": "hmr_nothing"}).Decode(t, &out)
	if !out.Logout {
		t.Fatal("logout of an unknown token answered differently")
	}
	// A deactivated account cannot refresh its other sign-in.
	if r := env.Do(b.Token, deactivateOp, map[string]any{"pw": "correct horse battery"}); r.Code() != "" {
		t.Fatalf("deactivate: %+v", r.Errors)
	}
	if _, code := refresh(env, b.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("refresh after deactivation: %q", code)
	}
}

// Uses of one refresh token at once, with no reuse window: exactly one
// gets a new pair, every other one is refused as a reuse (not failed by a
// lock it waits on).
func TestConcurrentRefreshOfOneTokenSucceedsOnce(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled(), apptest.WithConfig(func(c *config.Config) { c.RefreshReuseWindow = 0 }))
	_, _, email := env.Patient("Caio")
	p := signIn(t, env, email)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for range 8 {
		wg.Go(func() {
			_, code := refresh(env, p.RefreshToken)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[""] != 1 || codes["UNAUTHENTICATED"] != 7 {
		t.Fatalf("answers by code %v, want 1 success and 7 UNAUTHENTICATED", codes)
	}
}

// The periodic job deletes the sessions of ended sign-ins.
func TestEndedSignInsAreDeleted(t *testing.T) {
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) {
		c.SessionTTL = time.Hour
		c.Clinic.JobInterval = 20 * time.Millisecond
	}))
	_, _, email := env.Patient("Duda")
	p := signIn(t, env, email)
	if _, code := refresh(env, p.RefreshToken); code != "" {
		t.Fatalf("refresh: %q", code)
	}
	count := func() int {
		var n int
		if err := env.DB.SQL.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n < 3 { // registration, sign-in, refresh
		t.Fatalf("%d sessions before the end", n)
	}
	clock.Advance(time.Hour)
	for deadline := time.Now().Add(10 * time.Second); count() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions left after every sign-in ended", count())
		}
	}
}

// An open subscription's socket closes when its sign-in ends, on every
// replica, and a subscription of another sign-in of the same account
// carries on (TestSocketEndsWithItsSignIn has the rest).
func TestSubscriptionEndsWithItsSignIn(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	_, _, email := a.Patient("Gil")
	ending, staying := signIn(t, a, email), signIn(t, a, email)
	onA := a.Connect(t, apptest.TransportWS, ending.Token)
	onA.SubscribeLive("e", apptUpdatedSub, nil)
	onB := b.Connect(t, apptest.TransportWS, ending.Token)
	onB.SubscribeLive("e", apptUpdatedSub, nil)
	other := a.Connect(t, apptest.TransportWS, staying.Token)
	other.SubscribeLive("s", apptUpdatedSub, nil)

	a.Do("", logoutOp, map[string]any{"t": ending.RefreshToken}).Decode(t, &struct{}{})
	for name, w := range map[string]*apptest.WS{"A": onA, "B": onB} {
		closedForReconnect(t, name, w, closeReauthenticate, 5*time.Second)
	}
	if m, err := other.Next(2 * time.Second); err == nil {
		t.Fatalf("the other sign-in's subscription got %s %s", m.Type, m.Payload)
	}
}
