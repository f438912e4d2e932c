package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

const agendaSmallSub = `subscription { agendaUpdated { id kind slot { id } } }`

// nextPayload waits for the next data message of operation id.
func nextPayload(t *testing.T, w *apptest.WS, id string) string {
	t.Helper()
	m, err := w.Next(10 * time.Second)
	if err != nil {
		t.Fatalf("waiting for %s: %v", id, err)
	}
	if (m.Type != "next" && m.Type != "data") || m.ID != id {
		t.Fatalf("want data on %s, got %s %s %s", id, m.Type, m.ID, m.Payload)
	}
	return string(m.Payload)
}

// One viewer's subscriptions with one operation share each event's
// execution; a different selection, different variables or another viewer
// never get someone else's response.
func TestSubscriptionEventsRenderOncePerViewerAndOperation(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Many Screens", "Cardiology", -23.5, -46.6)
	other, _ := env.Doctor("Dr. Other", "Cardiology", -23.5, -46.6)

	// Three screens with the same operation, over both protocols.
	same := []*apptest.WS{
		env.Connect(t, apptest.TransportWS, doc),
		env.Connect(t, apptest.LegacyWS, doc),
		env.Connect(t, apptest.TransportWS, doc),
	}
	for _, w := range same {
		w.SubscribeLive("a", agendaSub, nil)
	}
	small := env.Connect(t, apptest.TransportWS, doc)
	small.SubscribeLive("s", agendaSmallSub, nil)
	// Same text, but variables: its own execution.
	withVars := env.Connect(t, apptest.TransportWS, doc)
	withVars.SubscribeLive("v", agendaSub, map[string]any{"after": nil})
	otherW := env.Connect(t, apptest.TransportWS, other)
	otherW.SubscribeLive("o", agendaSub, nil)

	renders0, shared0 := env.App.Shared.Renders(), env.App.Shared.Shared()
	slot := createSlot(t, env, doc, tomorrowAt(9), 50)

	first := nextPayload(t, same[0], "a")
	if !strings.Contains(first, slot) || !strings.Contains(first, `"kind":"SLOT_CREATED"`) {
		t.Fatalf("payload %s does not carry slot %s", first, slot)
	}
	for _, w := range same[1:] {
		if got := nextPayload(t, w, "a"); got != first {
			t.Fatalf("screens disagree:\n%s\n%s", got, first)
		}
	}
	var sm struct {
		Data struct {
			AgendaUpdated map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(nextPayload(t, small, "s")), &sm); err != nil {
		t.Fatal(err)
	}
	if _, ok := sm.Data.AgendaUpdated["appointment"]; ok || len(sm.Data.AgendaUpdated) != 3 {
		t.Fatalf("the smaller selection got %v", sm.Data.AgendaUpdated)
	}
	if got := nextPayload(t, withVars, "v"); got != first {
		t.Fatalf("same selection with variables:\n%s\n%s", got, first)
	}
	// Three executions for five sockets: the three screens share one.
	if r, s := env.App.Shared.Renders()-renders0, env.App.Shared.Shared()-shared0; r != 3 || s != 2 {
		t.Fatalf("%d executions and %d shared answers, want 3 and 2", r, s)
	}

	// The other doctor, subscribed with the very same operation, saw none
	// of it, and gets their own slot, not a cached one.
	otherSlot := createSlot(t, env, other, tomorrowAt(10), 50)
	got := nextPayload(t, otherW, "o")
	if !strings.Contains(got, otherSlot) || strings.Contains(got, slot) {
		t.Fatalf("other doctor's payload %s (own slot %s, foreign %s)", got, otherSlot, slot)
	}
	for _, w := range append(same, small, withVars) {
		if m, err := w.Next(300 * time.Millisecond); err == nil {
			t.Fatalf("the first doctor received %s %s", m.Type, m.Payload)
		}
	}
}
