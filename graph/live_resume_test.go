package graph_test

import (
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// A standard client resends its original subscribe message after a
// reconnect: the sign-in's resubscription continues where the closed one
// stood, on any replica, each missed event once.
func TestResubscriptionResumesWhereTheSignInLeftOff(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	doc, _ := a.Doctor("Dr. Resume", "Cardiology", -23.5, -46.6)
	for i, proto := range []string{apptest.TransportWS, apptest.LegacyWS} {
		at := func(h int) time.Time { return tomorrowAt(h).AddDate(0, 0, i) }
		t.Run(proto, func(t *testing.T) {
			w := a.Connect(t, proto, doc)
			w.SubscribeLive("1", agendaSub, nil)
			first := createSlot(t, a, doc, at(8), 30)
			var m agendaMsg
			w.NextData("1", &m)
			if m.AgendaUpdated.Slot.ID != first {
				t.Fatalf("first event %+v", m.AgendaUpdated)
			}
			w.Close()
			time.Sleep(100 * time.Millisecond) // a client's reconnect back-off
			missed := []string{createSlot(t, a, doc, at(9), 30), createSlot(t, a, doc, at(10), 30)}

			w2 := b.Connect(t, proto, doc)
			w2.Subscribe("1", agendaSub, nil)
			for _, want := range missed {
				w2.NextData("1", &m)
				if m.AgendaUpdated.Slot.ID != want {
					t.Fatalf("resumed with slot %s, want %s", m.AgendaUpdated.Slot.ID, want)
				}
			}
			live := createSlot(t, a, doc, at(11), 30)
			w2.NextData("1", &m)
			if m.AgendaUpdated.Slot.ID != live {
				t.Fatalf("after the replay, slot %s, want %s", m.AgendaUpdated.Slot.ID, live)
			}
			if msg, err := w2.Next(time.Second); err == nil {
				t.Fatalf("a duplicate: %+v %s", msg, msg.Payload)
			}
			w2.Close()
			// the next test starts from this one's end
			time.Sleep(200 * time.Millisecond)
			createSlot(t, a, doc, at(12), 30)
			w3 := a.Connect(t, proto, doc)
			w3.Subscribe("1", agendaSub, nil)
			w3.NextData("1", &m)
			w3.Close()
			time.Sleep(200 * time.Millisecond)
		})
	}
}

// Another sign-in of the same account starts afresh: a position belongs
// to the sign-in that left it.
func TestAnotherSignInDoesNotResume(t *testing.T) {
	env := apptest.New(t)
	doc, crm := env.Doctor("Dr. Elsewhere", "Cardiology", -23.5, -46.6)
	w := env.Connect(t, apptest.TransportWS, doc)
	w.SubscribeLive("1", agendaSub, nil)
	createSlot(t, env, doc, tomorrowAt(8), 30)
	var m agendaMsg
	w.NextData("1", &m)
	w.Close()
	createSlot(t, env, doc, tomorrowAt(9), 30)
	time.Sleep(200 * time.Millisecond)

	var login struct{ LoginDoctor struct{ Token string } }
	env.Do("", `mutation($c: String!) { loginDoctor(crm: $c, password: "correct horse battery") { token } }`,
		map[string]any{"c": crm}).Decode(t, &login)
	other := login.LoginDoctor.Token
	w2 := env.Connect(t, apptest.TransportWS, other)
	w2.Subscribe("1", agendaSub, nil)
	if msg, err := w2.Next(time.Second); err == nil {
		t.Fatalf("a new sign-in got a replay: %+v %s", msg, msg.Payload)
	}
}
