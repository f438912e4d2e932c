package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// The close codes of the README: standard clients reconnect on both, and
// the first makes them ask their connectionParams for a fresh token.
const (
	closeReauthenticate = 4403
	closeRestart        = 1012
)

var protocols = []string{apptest.TransportWS, apptest.LegacyWS}

// closedForReconnect requires the server to close w with code, sending
// nothing before it that a client takes as the end of an operation.
func closedForReconnect(t *testing.T, name string, w *apptest.WS, code int, within time.Duration) {
	t.Helper()
	before, got, err := w.Closed(within)
	if err != nil || got != code {
		t.Fatalf("%s: close code %d (err %v), want %d; before it: %+v", name, got, err, code, before)
	}
	for _, m := range before {
		switch m.Type {
		case "complete", "error", "connection_error":
			t.Fatalf("%s: sent %s %s %s before closing: clients take that as final", name, m.Type, m.ID, m.Payload)
		case "next", "data":
			t.Fatalf("%s: pushed %s %s after the viewer's end", name, m.ID, m.Payload)
		}
	}
}

// A patient with an appointment booked and cancelled, so that an
// appointmentUpdated subscription from the first event replays data at
// once; nothing upcoming stops a deactivation.
func patientWithHistory(t *testing.T, env *apptest.Env, name string) (email, firstEvent string) {
	t.Helper()
	doc, _ := env.Doctor("Dr. "+name, "Cardiology", -23.5, -46.6)
	pat, _, email := env.Patient(name)
	id := book(t, env, pat, createSlot(t, env, doc, tomorrowAt(9), 30))
	var out struct{ Node struct{ LastEventID string } }
	env.Do(pat, `query($id: ID!) { node(id: $id) { ... on Appointment { lastEventId } } }`, map[string]any{"id": id}).Decode(t, &out)
	env.Do(pat, cancelOp, map[string]any{"id": id, "r": "changed plans"}).Decode(t, &struct{}{})
	return email, out.Node.LastEventID
}

// When a sign-in ends (logout, a password change, deactivation), every
// socket opened with its token closes with 4403 within two seconds, on
// the replica that ended it and on another, with or without
// subscriptions; a subscription asked for in the meantime gets nothing.
func TestSocketEndsWithItsSignIn(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	ends := []struct {
		name string
		end  func(t *testing.T, p pair)
	}{
		{"logout", func(t *testing.T, p pair) {
			a.Do("", logoutOp, map[string]any{"t": p.RefreshToken}).Decode(t, &struct{}{})
		}},
		{"password changed", func(t *testing.T, p pair) {
			a.Do(p.Token, changePasswordOp, map[string]any{"cur": "correct horse battery", "new": "another horse battery"}).Decode(t, &struct{}{})
		}},
		{"account deactivated", func(t *testing.T, p pair) {
			a.Do(p.Token, deactivateOp, map[string]any{"pw": "correct horse battery"}).Decode(t, &struct{}{})
		}},
	}
	for _, proto := range protocols {
		for _, tc := range ends {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				email, first := patientWithHistory(t, a, "Ivo")
				p := signIn(t, a, email)
				onA := a.Connect(t, proto, p.Token)
				onA.SubscribeLive("s", apptUpdatedSub, nil)
				onB := b.Connect(t, proto, p.Token)
				onB.SubscribeLive("s", apptUpdatedSub, nil)
				idleA := a.Connect(t, proto, p.Token)
				idleB := b.Connect(t, proto, p.Token)
				time.Sleep(100 * time.Millisecond)

				start := time.Now()
				tc.end(t, p)
				// Straight after the end, on the replica that knows it: a
				// replay would push the patient's data at once.
				idleA.Subscribe("late", apptUpdatedSub, map[string]any{"after": first})
				for name, w := range map[string]*apptest.WS{"A": onA, "B": onB, "idle A": idleA, "idle B": idleB} {
					closedForReconnect(t, name, w, closeReauthenticate, 3*time.Second)
				}
				if d := time.Since(start); d > 2500*time.Millisecond {
					t.Fatalf("sockets closed %v after the sign-in ended", d)
				}
			})
		}
	}
}

// A token that names no sign-in (an external provider's) still ends with
// its account: the socket closes when the patient is deactivated, on any
// replica.
func TestSocketWithoutSignInEndsWithTheAccount(t *testing.T) {
	// Only an external provider's tokens name no sign-in of ours.
	idp := apptest.NewOIDCProvider(t)
	a := apptest.New(t, idp.Configure())
	b := a.Replica(t)
	for i, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			_, _, mail := a.Patient("Noa")
			if _, err := a.DB.SQL.Exec(`UPDATE patients SET email_verified_at = now() WHERE email = $1`, mail); err != nil {
				t.Fatal(err)
			}
			tok := idp.Token(t, fmt.Sprintf("noa-%d", i), "patient", mail, true)
			w := b.Connect(t, proto, tok)
			w.SubscribeLive("s", apptUpdatedSub, nil)
			start := time.Now()
			id, err := a.App.Identity.Verifier.Verify(context.Background(), tok)
			if err != nil || id.SessionID != "" {
				t.Fatalf("token %+v (err %v), want one without a sign-in", id, err)
			}
			if _, err := a.DB.SQL.Exec(`UPDATE patients SET deactivated_at = now() WHERE email = $1`, mail); err != nil {
				t.Fatal(err)
			}
			closedForReconnect(t, "B", w, closeReauthenticate, 3*time.Second)
			if d := time.Since(start); d > 2500*time.Millisecond {
				t.Fatalf("socket closed %v after the deactivation", d)
			}
		})
	}
}

// A socket whose token expires closes with 4403 (not an error the
// client takes as final), with or without subscriptions, on the replica
// that issued the token and on another.
func TestSocketClosesWhenItsTokenExpires(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	pat, _, _ := a.Patient("Eli")
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			short := mintToken(t, a, pat, 2*time.Second-15*time.Minute)
			open := map[string]*apptest.WS{}
			for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
				sub := env.Connect(t, proto, short)
				sub.Subscribe("e", apptUpdatedSub, nil)
				open["subscribed on "+name] = sub
				open["idle on "+name] = env.Connect(t, proto, short)
			}
			start := time.Now()
			for name, w := range open {
				closedForReconnect(t, name, w, closeReauthenticate, 5*time.Second)
			}
			if d := time.Since(start); d < time.Second || d > 4*time.Second {
				t.Fatalf("closed after %v, want at the token's expiry (2 s)", d)
			}
		})
	}
}

// Websockets carry subscriptions only: queries and mutations are refused
// with a code before they run (they go over HTTP), on every replica, and
// a refused mutation changes nothing and logs no panic.
func TestSocketCarriesSubscriptionsOnly(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	_, _, email := a.Patient("Ula")
	for _, proto := range protocols {
		for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
			t.Run(proto+"/"+name, func(t *testing.T) {
				p := signIn(t, a, email)
				w := env.Connect(t, proto, p.Token)
				w.Subscribe("m", logoutOp, map[string]any{"t": p.RefreshToken})
				refused(t, w, "m")
				w.Subscribe("q", viewerOp, nil)
				refused(t, w, "q")
				if m, err := w.Next(500 * time.Millisecond); err == nil {
					t.Fatalf("after the refusals: %s %s %s", m.Type, m.ID, m.Payload)
				}
				if _, code := refresh(a, p.RefreshToken); code != "" {
					t.Fatalf("the refused logout ran: refresh answered %s", code)
				}
			})
		}
	}
	for name, env := range map[string]*apptest.Env{"A": a, "B": b} {
		for _, bad := range []string{"panic", "internal error", "unexpected error"} {
			if strings.Contains(env.LogText(), bad) {
				t.Fatalf("%s's log has %q:\n%s", name, bad, env.LogText())
			}
		}
	}
}

func refused(t *testing.T, w *apptest.WS, id string) {
	t.Helper()
	m, err := w.Next(5 * time.Second)
	if err != nil || (m.Type != "next" && m.Type != "data") || m.ID != id {
		t.Fatalf("%s: got %s %s %s (err %v), want a refusal", id, m.Type, m.ID, m.Payload, err)
	}
	var p struct {
		Data   json.RawMessage
		Errors []apptest.Error
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) != 1 ||
		p.Errors[0].Code() != "BAD_USER_INPUT" || p.Errors[0].Extensions["reason"] != "SUBSCRIPTIONS_ONLY" {
		t.Fatalf("%s: payload %s, want one BAD_USER_INPUT/SUBSCRIPTIONS_ONLY error", id, m.Payload)
	}
	if len(p.Data) > 0 && string(p.Data) != "null" {
		t.Fatalf("%s: refused operation returned data %s", id, p.Data)
	}
	if m, err := w.Next(5 * time.Second); err != nil || m.Type != "complete" || m.ID != id {
		t.Fatalf("%s: got %s %s (err %v), want complete", id, m.Type, m.ID, err)
	}
}

// A stopping server closes its sockets with 1012 (service restart), which
// clients retry, usually on another replica; it never completes the
// subscriptions, which clients would take as their end. The hub stopping
// by itself (its context ends first on SIGTERM) does the same.
func TestShutdownClosesSocketsForReconnect(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Restart", "Cardiology", -23.5, -46.6)
	// A socket the client closes is forgotten at once.
	gone := env.Connect(t, apptest.TransportWS, doc)
	gone.Close()
	for deadline := time.Now().Add(3 * time.Second); env.App.Drainer.Open() != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d closed sockets still counted open", env.App.Drainer.Open())
		}
	}
	var byHub, byDrain []*apptest.WS
	for _, proto := range protocols {
		w := env.Connect(t, proto, doc)
		w.SubscribeLive("a", agendaSub, nil)
		byHub = append(byHub, w)
	}
	env.App.Hub.Shutdown()
	for i, w := range byHub {
		closedForReconnect(t, "hub stop "+protocols[i], w, closeRestart, 3*time.Second)
	}

	for _, proto := range protocols {
		byDrain = append(byDrain, env.Connect(t, proto, doc))
	}
	done := make(chan struct{})
	go func() { env.App.Shutdown(); close(done) }()
	for i, w := range byDrain {
		closedForReconnect(t, "drain "+protocols[i], w, closeRestart, 3*time.Second)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not return")
	}
	if n := env.App.Drainer.Open(); n != 0 {
		t.Fatalf("%d sockets still counted open after shutdown", n)
	}
	if w, _, err := env.DialWS(t, apptest.TransportWS, doc, ""); err == nil {
		closedForReconnect(t, "after shutdown", w, closeRestart, 3*time.Second)
	}
}
