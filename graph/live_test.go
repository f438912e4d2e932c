package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/auth"
	"github.com/healthmed/healthmed/internal/config"
	"github.com/healthmed/healthmed/internal/live"
)

const (
	apptUpdatedSub = `subscription($id: ID, $after: ID) { appointmentUpdated(id: $id, after: $after) { id status lastEventId meeting { url } cancelReason } }`
	agendaSub      = `subscription($after: ID) { agendaUpdated(after: $after) { id kind appointment { id status patient { name } } slot { id } } }`
)

type apptMsg struct {
	AppointmentUpdated struct {
		ID, Status  string
		LastEventID string
		Meeting     *struct{ URL string }
	}
}

type agendaMsg struct {
	AgendaUpdated struct {
		ID, Kind    string
		Appointment *struct {
			ID, Status string
			Patient    struct{ Name string }
		}
		Slot *struct{ ID string }
	}
}

func TestSubscriptionsDeliverToTheRightPeopleOnly(t *testing.T) {
	for _, proto := range []string{apptest.TransportWS, apptest.LegacyWS} {
		t.Run(proto, func(t *testing.T) {
			env := apptest.New(t)
			doc, _ := env.Doctor("Dr. Live", "Cardiology", -23.5, -46.6)
			otherDoc, _ := env.Doctor("Dr. Else", "Cardiology", -23.5, -46.6)
			pat, _, _ := env.Patient("Lia")
			third, _, _ := env.Patient("Third")
			slot := createSlot(t, env, doc, tomorrowAt(9), 50)

			agenda := env.Connect(t, proto, doc)
			agenda.SubscribeLive("a", agendaSub, nil)
			mine := env.Connect(t, proto, pat)
			mine.SubscribeLive("p", apptUpdatedSub, nil)
			spyP := env.Connect(t, proto, third)
			spyP.SubscribeLive("s", apptUpdatedSub, nil)
			spyD := env.Connect(t, proto, otherDoc)
			spyD.SubscribeLive("d", agendaSub, nil)

			id := book(t, env, pat, slot)
			var ag agendaMsg
			agenda.NextData("a", &ag)
			if ag.AgendaUpdated.Kind != "BOOKING_REQUESTED" || ag.AgendaUpdated.Appointment.ID != id ||
				ag.AgendaUpdated.Appointment.Patient.Name != "Lia" {
				t.Fatalf("doctor got %+v", ag.AgendaUpdated)
			}
			var pm apptMsg
			mine.NextData("p", &pm)
			if pm.AppointmentUpdated.Status != "REQUESTED" {
				t.Fatalf("patient got %+v", pm)
			}

			env.Do(doc, acceptOp, map[string]any{"id": id}).Decode(t, &struct{}{})
			mine.NextData("p", &pm)
			if pm.AppointmentUpdated.Status != "ACCEPTED" || pm.AppointmentUpdated.Meeting == nil ||
				!strings.HasPrefix(pm.AppointmentUpdated.Meeting.URL, "https://") {
				t.Fatalf("accept pushed %+v", pm.AppointmentUpdated)
			}
			agenda.NextData("a", &ag)
			if ag.AgendaUpdated.Kind != "BOOKING_ACCEPTED" {
				t.Fatalf("doctor got %+v", ag.AgendaUpdated)
			}

			env.Do(pat, cancelOp, map[string]any{"id": id, "r": "changed plans"}).Decode(t, &struct{}{})
			mine.NextData("p", &pm)
			agenda.NextData("a", &ag)
			if pm.AppointmentUpdated.Status != "CANCELLED" || ag.AgendaUpdated.Kind != "BOOKING_CANCELLED" {
				t.Fatalf("cancel pushed %+v / %+v", pm.AppointmentUpdated, ag.AgendaUpdated)
			}

			// The outsiders' first events must be their own: nothing of
			// Lia's or Dr. Live's reached them before.
			own := createSlot(t, env, otherDoc, tomorrowAt(15), 30)
			var d agendaMsg
			spyD.NextData("d", &d)
			if d.AgendaUpdated.Kind != "SLOT_CREATED" || d.AgendaUpdated.Slot == nil || d.AgendaUpdated.Slot.ID != own {
				t.Fatalf("other doctor's first event: %+v", d.AgendaUpdated)
			}
			ownAppt := book(t, env, third, own)
			var s apptMsg
			spyP.NextData("s", &s)
			if s.AppointmentUpdated.ID != ownAppt {
				t.Fatalf("third patient's first event is appointment %s, want their own %s", s.AppointmentUpdated.ID, ownAppt)
			}
		})
	}
}

func TestSubscriptionRefusesBadInit(t *testing.T) {
	env := apptest.New(t, apptest.WithConfig(func(c *config.Config) { c.AllowedOrigins = []string{"https://app.healthmed.example"} }))
	pat, _, _ := env.Patient("Nia")
	expired := mintToken(t, env, pat, -time.Hour)
	for _, proto := range []string{apptest.TransportWS, apptest.LegacyWS} {
		for name, token := range map[string]string{"no token": "", "garbage": "x.y.z", "expired": expired} {
			t.Run(proto+"/"+name, func(t *testing.T) {
				w, _, err := env.DialWS(t, proto, token, "")
				if err != nil {
					t.Fatal(err)
				}
				code, err := w.CloseCode(5 * time.Second)
				if err != nil || (code != 4403 && code != 4401) {
					t.Fatalf("close code %d (err %v), want 4401/4403", code, err)
				}
			})
		}
		t.Run(proto+"/foreign origin", func(t *testing.T) {
			_, res, err := env.DialWS(t, proto, pat, "https://evil.example")
			if err == nil || res == nil || res.StatusCode != 403 {
				t.Fatalf("foreign origin: err %v, response %+v", err, res)
			}
			if w, _, err := env.DialWS(t, proto, pat, "https://app.healthmed.example"); err != nil {
				t.Fatalf("allowed origin refused: %v", err)
			} else if m, err := w.Next(5 * time.Second); err != nil || m.Type != "connection_ack" {
				t.Fatalf("allowed origin: %+v %v", m, err)
			}
		})
	}
}

func TestEventOnOneReplicaReachesSubscriberOnAnother(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	doc, _ := a.Doctor("Dr. A", "Cardiology", -23.5, -46.6)
	pat, _, _ := a.Patient("Bea")
	slot := createSlot(t, a, doc, tomorrowAt(10), 50)
	id := book(t, a, pat, slot)

	w := b.Connect(t, apptest.TransportWS, pat)
	w.SubscribeLive("1", apptUpdatedSub, map[string]any{"id": id})
	a.Do(doc, acceptOp, map[string]any{"id": id}).Decode(t, &struct{}{})
	var m apptMsg
	w.NextData("1", &m)
	if m.AppointmentUpdated.Status != "ACCEPTED" || m.AppointmentUpdated.ID != id || m.AppointmentUpdated.Meeting == nil {
		t.Fatalf("replica B pushed %+v", m.AppointmentUpdated)
	}
}

// The listener's connection dies: the events written meanwhile still
// arrive, each once and in order.
func TestListenerGapLosesNothing(t *testing.T) {
	a := apptest.New(t)
	b := a.Replica(t)
	doc, _ := a.Doctor("Dr. Gap", "Cardiology", -23.5, -46.6)
	w := b.Connect(t, apptest.TransportWS, doc)
	w.SubscribeLive("g", agendaSub, nil)

	var killed int
	if err := a.DB.SQL.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, live.ListenerName).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("terminated %d listeners (err %v), want both replicas'", killed, err)
	}
	var want []string
	for i := 0; i < 5; i++ {
		want = append(want, createSlot(t, a, doc, tomorrowAt(8+i), 30))
	}
	var got []string
	for range want {
		var m agendaMsg
		w.NextData("g", &m)
		got = append(got, m.AgendaUpdated.Slot.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v in order", got, want)
	}
	// Nothing more: a sixth change is the next message, not a duplicate.
	last := createSlot(t, a, doc, tomorrowAt(14), 30)
	var m agendaMsg
	w.NextData("g", &m)
	if m.AgendaUpdated.Slot.ID != last {
		t.Fatalf("after the five, got slot %s, want %s", m.AgendaUpdated.Slot.ID, last)
	}
}

func TestReconnectingClientReplaysMissedEvents(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Replay", "Cardiology", -23.5, -46.6)
	w := env.Connect(t, apptest.TransportWS, doc)
	w.SubscribeLive("1", agendaSub, nil)
	first := createSlot(t, env, doc, tomorrowAt(8), 30)
	var m agendaMsg
	w.NextData("1", &m)
	seen := m.AgendaUpdated.ID
	if m.AgendaUpdated.Slot.ID != first {
		t.Fatalf("first event %+v", m.AgendaUpdated)
	}
	w.Close()

	missed := []string{createSlot(t, env, doc, tomorrowAt(9), 30), createSlot(t, env, doc, tomorrowAt(10), 30)}
	w2 := env.Connect(t, apptest.TransportWS, doc)
	w2.Subscribe("2", agendaSub, map[string]any{"after": seen})
	for _, want := range missed {
		w2.NextData("2", &m)
		if m.AgendaUpdated.Slot.ID != want {
			t.Fatalf("replayed slot %s, want %s", m.AgendaUpdated.Slot.ID, want)
		}
	}
	// Someone else's event id is not a resume point.
	other, _ := env.Doctor("Dr. Other", "Cardiology", -23.5, -46.6)
	w3 := env.Connect(t, apptest.TransportWS, other)
	w3.Subscribe("3", agendaSub, map[string]any{"after": seen})
	msg, err := w3.Next(5 * time.Second)
	if err != nil || (msg.Type != "error" && msg.Type != "next") || !strings.Contains(string(msg.Payload), `"code":"BAD_USER_INPUT"`) ||
		strings.Contains(string(msg.Payload), "slot") {
		t.Fatalf("foreign resume point: %+v %s %v", msg, msg.Payload, err)
	}
}

// mintToken signs a token for the viewer behind token, shifted in time.
func mintToken(t *testing.T, env *apptest.Env, token string, shift time.Duration) string {
	t.Helper()
	keys, err := auth.ParseKeySetPEM(string(env.Config.SigningKey))
	if err != nil {
		t.Fatal(err)
	}
	id, err := env.App.Identity.Verifier.Verify(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	iss := auth.NewIssuer(auth.IssuerConfig{IssuerURL: env.Config.PublicURL, Audience: env.Config.TokenAudience,
		TTL: 15 * time.Minute, Now: func() time.Time { return time.Now().Add(shift) }}, keys)
	tok, _, err := iss.IssueSession(id.Subject, id.Role, id.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
