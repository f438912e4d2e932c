package graph_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/ent/patient"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/viewer"
)

// A writer that never existed before, a direct Ent write as the system
// as a future job would make, gets everything a change calls for without
// asking for it: the doctor's agenda sees each move, the notices are
// enqueued, and the completion issues the invoice.
func TestADirectWriteGetsEveryConsequence(t *testing.T) {
	env, clock := newClinicEnv(t)
	doc, _ := env.Doctor("Dra. Direta", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Rui Direto")
	slotID := atoi(t, createSlot(t, env, doc, clock.Now().Add(time.Hour), 50))
	agenda := env.Connect(t, apptest.TransportWS, doc)
	agenda.SubscribeLive("a", agendaSub, nil)

	sys, c := sysCtx(), env.DB.Client
	write := func(what string, f func(tx *ent.Tx) (*ent.Appointment, error)) *ent.Appointment {
		t.Helper()
		tx, err := c.Tx(sys)
		if err != nil {
			t.Fatal(err)
		}
		a, err := f(tx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("%s: commit: %v", what, err)
		}
		return a
	}
	sees := func(kind string, id int) {
		t.Helper()
		var ag agendaMsg
		agenda.NextData("a", &ag)
		if ag.AgendaUpdated.Kind != kind || ag.AgendaUpdated.Appointment == nil ||
			ag.AgendaUpdated.Appointment.ID != strconv.Itoa(id) {
			t.Fatalf("agenda got %+v, want %s of %d", ag.AgendaUpdated, kind, id)
		}
	}
	told := func(token, kind string, id int) {
		t.Helper()
		for _, e := range notices(t, env, token, nil).Notifications.Edges {
			if n := e.Node; n.Kind == kind && n.Appointment != nil && n.Appointment.ID == strconv.Itoa(id) {
				return
			}
		}
		t.Fatalf("no %s notice of %d", kind, id)
	}

	sl := c.Slot.GetX(sys, slotID)
	patID := c.Patient.Query().Where(patient.Name("Rui Direto")).OnlyIDX(sys)
	a := write("book", func(tx *ent.Tx) (*ent.Appointment, error) {
		return tx.Appointment.Create().SetSlotID(sl.ID).SetDoctorID(sl.DoctorID).SetPatientID(patID).
			SetStartsAt(sl.StartsAt).SetEndsAt(sl.EndsAt).SetPriceCents(31000).Save(sys)
	})
	sees("BOOKING_REQUESTED", a.ID)
	told(doc, "BOOKING_REQUESTED", a.ID)

	write("accept", func(tx *ent.Tx) (*ent.Appointment, error) {
		return tx.Appointment.UpdateOneID(a.ID).SetStatus(appointment.StatusACCEPTED).Save(sys)
	})
	sees("BOOKING_ACCEPTED", a.ID)
	told(pat, "BOOKING_ACCEPTED", a.ID)

	// A bulk status change would leave its rows without consequences:
	// it is refused, and changes nothing.
	if err := c.Appointment.Update().Where(appointment.ID(a.ID)).SetStatus(appointment.StatusCANCELLED).Exec(sys); err == nil {
		t.Fatal("a bulk status change was accepted")
	}

	write("complete", func(tx *ent.Tx) (*ent.Appointment, error) {
		return tx.Appointment.UpdateOneID(a.ID).SetStatus(appointment.StatusCOMPLETED).Save(sys)
	})
	sees("BOOKING_COMPLETED", a.ID)
	var out struct {
		Node struct {
			Status  string
			Invoice *struct {
				AmountCents      int
				IssuedBy, Status string
			}
		}
	}
	env.Do(doc, `query($id: ID!) { node(id: $id) { ... on Appointment { status invoice { amountCents issuedBy status } } } }`,
		map[string]any{"id": strconv.Itoa(a.ID)}).Decode(t, &out)
	if inv := out.Node.Invoice; out.Node.Status != "COMPLETED" || inv == nil ||
		inv.AmountCents != 31000 || inv.IssuedBy != "SYSTEM" || inv.Status != "OPEN" {
		t.Fatalf("after the direct completion: %+v %+v", out.Node, inv)
	}
}

// A cancellation is told to each party who did not make it, decided by
// who wrote it, not by the writer's role: a direct Ent write as the
// system, as a future job would make, tells both.
func TestADirectCancellationTellsWhoDidNotCancel(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	docTok, _ := env.Doctor("Dra. Cancela", "Cardiology", -23.5, -46.6)
	patTok, _, _ := env.Patient("Rita Cancela")
	doc := atoi(t, doctorID(t, env, docTok))
	sys, c := sysCtx(), env.DB.Client
	pat := c.Patient.Query().Where(patient.Name("Rita Cancela")).OnlyIDX(sys)
	as := func(r viewer.Role, id int) context.Context {
		return viewer.NewContext(context.Background(), viewer.Viewer{Role: r, ID: id})
	}
	for i, tc := range []struct {
		by   string
		ctx  context.Context
		told []string
	}{
		{"the patient", as(viewer.Patient, pat), []string{"doctor"}},
		{"the doctor", as(viewer.Doctor, doc), []string{"patient"}},
		{"the system", sys, []string{"doctor", "patient"}},
	} {
		t.Run(tc.by, func(t *testing.T) {
			id := atoi(t, book(t, env, patTok, createSlot(t, env, docTok, tomorrowAt(8+i), 30)))
			if err := c.Appointment.UpdateOneID(id).SetStatus(appointment.StatusCANCELLED).
				SetCancelReason("direct").Exec(tc.ctx); err != nil {
				t.Fatal(err)
			}
			var told []string
			for _, n := range c.Notification.Query().Where(notification.AppointmentID(id),
				notification.KindEQ(notification.KindBOOKING_CANCELLED)).AllX(sys) {
				if n.DoctorID != nil {
					told = append(told, "doctor")
				}
				if n.PatientID != nil {
					told = append(told, "patient")
				}
			}
			slices.Sort(told)
			if !slices.Equal(told, tc.told) {
				t.Fatalf("cancelled by %s, told %v, want %v", tc.by, told, tc.told)
			}
		})
	}
}

// A hold ended by a direct Ent write, in bulk and by no service of ours,
// still hands the slot to the next in line, who is told.
func TestADirectlyEndedHoldGoesToTheNextInLine(t *testing.T) {
	env := apptest.New(t)
	docTok, _ := env.Doctor("Dra. Fila", "Cardiology", -23.5, -46.6)
	doc := doctorID(t, env, docTok)
	first, _, _ := env.Patient("Primeira")
	second, _, _ := env.Patient("Segunda")
	join(t, env, first, doc, nil, nil)
	join(t, env, second, doc, nil, nil)
	slot := createSlot(t, env, docTok, tomorrowAt(15), 50)
	if got := entries(t, env, first); got[0].Offer == nil || got[0].Offer.Slot.ID != slot {
		t.Fatalf("the new slot was not held for the first in line: %+v", got[0])
	}

	sys, c := sysCtx(), env.DB.Client
	if err := c.WaitlistOffer.Update().Where(waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).
		SetStatus(waitlistoffer.StatusEXPIRED).Exec(sys); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, env, second); got[0].Offer == nil || got[0].Offer.Slot.ID != slot {
		t.Fatalf("the second in line was not offered the slot: %+v", got[0])
	}
	n, err := c.Notification.Query().Where(notification.KindEQ(notification.KindWAITLIST_OFFERED)).Count(sys)
	if err != nil || n != 2 {
		t.Fatalf("%d offer notices (%v), want one per holder", n, err)
	}
}

// Ratings given, hidden, shown again and deleted by direct Ent writes,
// in bulk and by no service of ours, keep the doctor's average exact.
func TestDirectWritesOfRatingsKeepTheAverage(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	f := newReviewFixture(t, env)
	for i, stars := range []int{5, 4, 1} {
		f.imported(t, fmt.Sprintf("Direct%d Rater", i), stars, time.Now())
	}
	f.rated(t, "Api Rater", 1, "")
	average := func(what string, want float64, count int) {
		t.Helper()
		p := f.page(t, "", 10, nil)
		if p.Node.Rating == nil || math.Abs(*p.Node.Rating-want) > 1e-9 || p.Node.RatingCount != count {
			t.Fatalf("%s: rating %v over %d, want %v over %d", what, p.Node.Rating, p.Node.RatingCount, want, count)
		}
	}
	average("given", 11.0/4, 4)
	sys, c := sysCtx(), env.DB.Client
	c.Feedback.Update().Where(feedback.Stars(1)).SetHiddenAt(time.Now()).ExecX(sys)
	average("the ones hidden", 4.5, 2)
	c.Feedback.Update().Where(feedback.Stars(1)).ClearHiddenAt().ExecX(sys)
	average("shown again", 11.0/4, 4)
	c.Feedback.Delete().Where(feedback.Stars(5)).ExecX(sys)
	average("the five deleted", 2, 3)
}
