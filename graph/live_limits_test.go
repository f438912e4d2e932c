package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/live"
)

// refusedSubscription waits for the error of one of the operations of w
// and returns its id and error extensions.
func refusedSubscription(t *testing.T, w *apptest.WS) (string, map[string]any) {
	t.Helper()
	for {
		m, err := w.Next(5 * time.Second)
		if err != nil {
			t.Fatalf("no subscription was refused: %v", err)
		}
		if m.Type == "complete" {
			continue
		}
		var errs []apptest.Error
		if m.Type == "error" {
			_ = json.Unmarshal(m.Payload, &errs)
		} else {
			var p struct{ Errors []apptest.Error }
			_ = json.Unmarshal(m.Payload, &p)
			errs = p.Errors
		}
		if len(errs) == 0 {
			t.Fatalf("unexpected %s on %s: %s", m.Type, m.ID, m.Payload)
		}
		return m.ID, errs[0].Extensions
	}
}

// dataOn reads data messages until each id in want has one.
func dataOn(t *testing.T, w *apptest.WS, want ...string) {
	t.Helper()
	left := map[string]bool{}
	for _, id := range want {
		left[id] = true
	}
	for len(left) > 0 {
		m, err := w.Next(10 * time.Second)
		if err != nil {
			t.Fatalf("still waiting for data on %v: %v", left, err)
		}
		if m.Type == "complete" && !left[m.ID] {
			continue // a refused subscription's end
		}
		if m.Type != "next" || !left[m.ID] || strings.Contains(string(m.Payload), `"errors"`) {
			t.Fatalf("unexpected %s on %s: %s", m.Type, m.ID, m.Payload)
		}
		delete(left, m.ID)
	}
}

func TestSubscriptionsAreCappedPerSocketAndPerAccount(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) {
		c.Subscriptions = config.SubscriptionLimits{PerSocket: 3, PerAccount: 5}
	}))
	doc, _ := env.Doctor("Dr. Many", "Cardiology", -23.5, -46.6)

	a := env.Connect(t, apptest.TransportWS, doc)
	for _, id := range []string{"a1", "a2", "a3", "a4"} {
		a.Subscribe(id, agendaSub, nil)
	}
	refusedA, ext := refusedSubscription(t, a)
	if ext["code"] != "RATE_LIMITED" || ext["reason"] != "TOO_MANY_SUBSCRIPTIONS" || ext["requestId"] == nil {
		t.Fatalf("fourth subscription on a socket: %v", ext)
	}
	// The socket's three count for the account only once each has taken
	// its place: a loaded machine may have one still on its way, and b's
	// would then take it.
	waitSubscribers(t, env, 3)

	b := env.Connect(t, apptest.TransportWS, doc)
	for _, id := range []string{"b1", "b2", "b3"} {
		b.Subscribe(id, agendaSub, nil)
	}
	refusedB, ext := refusedSubscription(t, b)
	if ext["code"] != "RATE_LIMITED" || ext["reason"] != "TOO_MANY_SUBSCRIPTIONS" {
		t.Fatalf("sixth subscription of an account: %v", ext)
	}

	// The ones accepted all work, once the hub has them all.
	waitSubscribers(t, env, 5)
	createSlot(t, env, doc, tomorrowAt(8), 30)
	dataOn(t, a, without([]string{"a1", "a2", "a3", "a4"}, refusedA)...)
	dataOn(t, b, without([]string{"b1", "b2", "b3"}, refusedB)...)

	// Ending one frees its place for the account and its socket.
	gone := without([]string{"a1", "a2", "a3", "a4"}, refusedA)[0]
	a.Complete(gone)
	waitSubscribers(t, env, 4)
	time.Sleep(200 * time.Millisecond) // its place is given back beside the hub's feed
	b.Subscribe("b4", agendaSub, nil)
	waitSubscribers(t, env, 5)
	createSlot(t, env, doc, tomorrowAt(9), 30)
	dataOn(t, b, append(without([]string{"b1", "b2", "b3"}, refusedB), "b4")...)

	// Another account is not affected.
	other, _ := env.Doctor("Dr. Other", "Cardiology", -23.5, -46.6)
	c := env.Connect(t, apptest.TransportWS, other)
	c.Subscribe("c1", agendaSub, nil)
	waitSubscribers(t, env, 6)
	createSlot(t, env, other, tomorrowAt(8), 30)
	dataOn(t, c, "c1")
}

// waitSubscribers waits until the hub holds n feeds.
func waitSubscribers(t *testing.T, env *apptest.Env, n int) {
	t.Helper()
	apptest.WaitFor(t, fmt.Sprintf("the hub to hold %d subscriptions", n),
		func() bool { return env.App.Hub.Subscribers() == n })
}

func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop {
			out = append(out, id)
		}
	}
	return out
}

// A client that missed more events than a replay holds is told to refetch
// instead of getting a flood (or, as before, silently only the first
// thousand).
func TestResumeBeyondTheReplayBoundAsksForARefetch(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Away", "Cardiology", -23.5, -46.6)
	w := env.Connect(t, apptest.TransportWS, doc)
	w.SubscribeLive("1", agendaSub, nil)
	createSlot(t, env, doc, tomorrowAt(6), 15)
	var m agendaMsg
	w.NextData("1", &m)
	seen := m.AgendaUpdated.ID
	w.Close()

	// Just within the bound, the replay comes whole.
	day := tomorrowAt(0).Add(24 * time.Hour)
	slots := func(from, n int) []any {
		var in []any
		for i := from; i < from+n; i++ {
			in = append(in, slotAt(day.Add(time.Duration(i)*10*time.Minute), 10))
		}
		return in
	}
	if r := env.Do(doc, createSlotsOp, map[string]any{"in": slots(0, live.MaxReplay)}); r.Code() != "" {
		t.Fatalf("createSlots: %+v", r.Errors)
	}
	w2 := env.Connect(t, apptest.TransportWS, doc)
	w2.Subscribe("2", agendaSub, map[string]any{"after": seen})
	for i := 0; i < live.MaxReplay; i++ {
		w2.NextData("2", &m)
	}
	w2.Close()

	// One more, and it does not.
	if r := env.Do(doc, createSlotsOp, map[string]any{"in": slots(live.MaxReplay, 1)}); r.Code() != "" {
		t.Fatalf("createSlots: %+v", r.Errors)
	}
	w3 := env.Connect(t, apptest.TransportWS, doc)
	w3.Subscribe("3", agendaSub, map[string]any{"after": seen})
	id, ext := refusedSubscription(t, w3)
	if id != "3" || ext["code"] != "CONFLICT" || ext["reason"] != "REFETCH_REQUIRED" {
		t.Fatalf("resume past the bound: %s %v", id, ext)
	}
}
