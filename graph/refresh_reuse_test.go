package graph_test

import (
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
)

// TestRefreshReuseWindow: a refresh token presented again within the
// reuse window of its exchange (two tabs, an answer lost on a mobile
// network) gets the same new refresh token and a working access token;
// presented after it, the whole sign-in ends, as before. Both sides of
// the window on the server's clock.
func TestRefreshReuseWindow(t *testing.T) {
	env, clock := newClinicEnv(t, apptest.WithConfig(func(c *config.Config) { c.RefreshReuseWindow = 30 * time.Second }))
	_, _, email := env.Patient("Rui")
	first := signIn(t, env, email)
	second, code := refresh(env, first.RefreshToken)
	if code != "" {
		t.Fatalf("refresh: %q", code)
	}
	for _, after := range []time.Duration{0, 20 * time.Second, 10 * time.Second} {
		clock.Advance(after)
		again, code := refresh(env, first.RefreshToken)
		if code != "" || again.RefreshToken != second.RefreshToken || again.RefreshExpiresAt != second.RefreshExpiresAt {
			t.Fatalf("repeat %s into the window: %q %+v, want the refresh token %s", after, code, again, second.RefreshToken)
		}
		if whoAmI(env, again.Token) != email {
			t.Fatal("the repeat's access token does not sign in")
		}
	}
	// 30 s after the exchange, the window is over: the next token still
	// works (it was exchanged just now), and the old one's reuse ends the
	// sign-in with everything in it.
	third, code := refresh(env, second.RefreshToken)
	if code != "" {
		t.Fatalf("the next token: %q", code)
	}
	clock.Advance(time.Second)
	if _, code := refresh(env, first.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("reuse after the window: %q", code)
	}
	if _, code := refresh(env, third.RefreshToken); code != "UNAUTHENTICATED" {
		t.Fatalf("the sign-in survived a reuse after the window: %q", code)
	}
	if whoAmI(env, third.Token) != "" {
		t.Fatal("the ended sign-in's access token still works")
	}

	// Neither the old token nor its successor is stored in clear.
	rows, err := env.DB.SQL.Query(`SELECT token_hash FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{first.RefreshToken, second.RefreshToken, third.RefreshToken} {
			if h == tok || h == tok[len("hmr_"):] {
				t.Fatal("a refresh token is stored in clear")
			}
		}
	}
}

// TestConcurrentRefreshesShareTheNewPair: tabs refreshing one token at
// once all get the same new refresh token, and it works.
func TestConcurrentRefreshesShareTheNewPair(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	_, _, email := env.Patient("Teo")
	p := signIn(t, env, email)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{}
	for range 6 {
		wg.Go(func() {
			next, code := refresh(env, p.RefreshToken)
			mu.Lock()
			got[code+next.RefreshToken]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(got) != 1 {
		t.Fatalf("answers %v, want one refresh token for all", got)
	}
	for next := range got {
		if _, code := refresh(env, next); code != "" {
			t.Fatalf("the shared new refresh token: %q", code)
		}
	}
}
