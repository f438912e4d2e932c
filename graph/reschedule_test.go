package graph_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/apptest"
)

const rescheduleOp = `mutation($id: ID!, $slot: ID!) { rescheduleAppointment(id: $id, slotId: $slot) {
  id status startsAt endsAt meeting { url startsAt } } }`

type rescheduled struct {
	RescheduleAppointment struct {
		ID, Status       string
		StartsAt, EndsAt time.Time
		Meeting          *struct {
			URL      string
			StartsAt time.Time
		}
	}
}

func slotFree(t *testing.T, env *apptest.Env, token, slot string) bool {
	t.Helper()
	var out struct{ Node struct{ Free bool } }
	env.Do(token, slotFreeOp, map[string]any{"id": slot}).Decode(t, &out)
	return out.Node.Free
}

func TestRescheduleMovesTheAppointmentAndKeepsIt(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Move", "Cardiology", -23.5, -46.6)
	otherDoc, _ := env.Doctor("Dr. Other", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Rita")
	stranger, _, _ := env.Patient("Stranger")
	s1 := createSlot(t, env, doc, tomorrowAt(9), 50)
	s2 := createSlot(t, env, doc, tomorrowAt(11), 50)
	id := book(t, env, pat, s1)
	var acc struct {
		AcceptAppointment struct{ Meeting struct{ URL string } }
	}
	env.Do(doc, acceptOp, map[string]any{"id": id}).Decode(t, &acc)

	// Only the patient moves it; to everyone else it does not exist.
	for who, token := range map[string]string{"doctor": doc, "stranger": stranger} {
		if r := env.Do(token, rescheduleOp, map[string]any{"id": id, "slot": s2}); r.Code() != "NOT_FOUND" {
			t.Fatalf("%s rescheduled: %s", who, r.Code())
		}
	}

	var out rescheduled
	env.Do(pat, rescheduleOp, map[string]any{"id": id, "slot": s2}).Decode(t, &out)
	got := out.RescheduleAppointment
	if got.ID != id || got.Status != "ACCEPTED" || !got.StartsAt.Equal(tomorrowAt(11)) || !got.EndsAt.Equal(tomorrowAt(11).Add(50*time.Minute)) {
		t.Fatalf("rescheduled to %+v", got)
	}
	if got.Meeting == nil || !got.Meeting.StartsAt.Equal(tomorrowAt(11)) {
		t.Fatalf("the meeting did not follow the new time: %+v", got.Meeting)
	}
	if !slotFree(t, env, pat, s1) || slotFree(t, env, pat, s2) {
		t.Fatal("the old slot is not free, or the new one is")
	}
	// Its history stays with it: one appointment, its events and notices.
	ctx := sysCtx()
	n, err := env.DB.Client.Appointment.Query().Count(ctx)
	if err != nil || n != 1 {
		t.Fatalf("%d appointments (%v)", n, err)
	}
	evs, err := env.DB.Client.Event.Query().Where(event.AppointmentID(atoi(t, id))).All(ctx)
	if err != nil || len(evs) != 3 || evs[2].Kind != event.KindBOOKING_RESCHEDULED || *evs[2].SlotID != atoi(t, s2) {
		t.Fatalf("events %v (%v)", evs, err)
	}
	notices, err := env.DB.Client.Notification.Query().
		Where(notification.KindEQ(notification.KindBOOKING_RESCHEDULED)).All(ctx)
	if err != nil || len(notices) != 2 || (notices[0].DoctorID == nil) == (notices[1].DoctorID == nil) {
		t.Fatalf("reschedule notices %v (%v)", notices, err)
	}

	// Moving to the slot it holds changes nothing; refusals change nothing.
	env.Do(pat, rescheduleOp, map[string]any{"id": id, "slot": s2}).Decode(t, &out)
	foreign := createSlot(t, env, otherDoc, tomorrowAt(14), 50)
	if r := env.Do(pat, rescheduleOp, map[string]any{"id": id, "slot": foreign}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "slotId" {
		t.Fatalf("another doctor's slot: %s %s", r.Code(), r.Ext("field"))
	}
	taken := createSlot(t, env, doc, tomorrowAt(15), 50)
	book(t, env, stranger, taken)
	if r := env.Do(pat, rescheduleOp, map[string]any{"id": id, "slot": taken}); r.Code() != "CONFLICT" || r.Ext("reason") != "SLOT_TAKEN" {
		t.Fatalf("a taken slot: %s %s", r.Code(), r.Ext("reason"))
	}
	// The patient's own appointment with another doctor at 16:00.
	book(t, env, pat, createSlot(t, env, otherDoc, tomorrowAt(16), 50))
	clash := createSlot(t, env, doc, tomorrowAt(16).Add(10*time.Minute), 30)
	if r := env.Do(pat, rescheduleOp, map[string]any{"id": id, "slot": clash}); r.Code() != "CONFLICT" || r.Ext("reason") != "PATIENT_OVERLAP" {
		t.Fatalf("an overlapping slot: %s %s", r.Code(), r.Ext("reason"))
	}
	a, err := env.DB.Client.Appointment.Get(ctx, atoi(t, id))
	if err != nil || a.SlotID != atoi(t, s2) || a.Status != appointment.StatusACCEPTED {
		t.Fatalf("a refused reschedule changed the appointment: %+v (%v)", a, err)
	}
	env.Do(pat, cancelOp, map[string]any{"id": id, "r": "no longer needed"}).Decode(t, &struct{}{})
	if r := env.Do(pat, rescheduleOp, map[string]any{"id": id, "slot": s1}); r.Code() != "CONFLICT" || r.Ext("reason") != "INVALID_TRANSITION" {
		t.Fatalf("a cancelled appointment: %s %s", r.Code(), r.Ext("reason"))
	}
}

func TestRescheduleIsPushedToBothParties(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Live Move", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Lia")
	s1 := createSlot(t, env, doc, tomorrowAt(9), 50)
	s2 := createSlot(t, env, doc, tomorrowAt(10), 50)
	id := book(t, env, pat, s1)
	agenda := env.Connect(t, apptest.TransportWS, doc)
	agenda.SubscribeLive("a", agendaSub, nil)
	mine := env.Connect(t, apptest.TransportWS, pat)
	mine.SubscribeLive("p", `subscription { appointmentUpdated { id status } }`, nil)
	env.Do(pat, rescheduleOp, map[string]any{"id": id, "slot": s2}).Decode(t, &struct{}{})
	var ag agendaMsg
	agenda.NextData("a", &ag)
	if ag.AgendaUpdated.Kind != "BOOKING_RESCHEDULED" || ag.AgendaUpdated.Appointment == nil ||
		ag.AgendaUpdated.Appointment.ID != id || ag.AgendaUpdated.Slot == nil || ag.AgendaUpdated.Slot.ID != s2 {
		t.Fatalf("doctor got %+v", ag.AgendaUpdated)
	}
	var pm struct{ AppointmentUpdated struct{ ID, Status string } }
	mine.NextData("p", &pm)
	if pm.AppointmentUpdated.ID != id || pm.AppointmentUpdated.Status != "REQUESTED" {
		t.Fatalf("patient got %+v", pm)
	}
}

// TestRescheduleRacesABookingOfTheSameSlot: a patient moving into a slot
// and another booking it at the same moment; exactly one wins, and a
// losing reschedule leaves the appointment where it was.
func TestRescheduleRacesABookingOfTheSameSlot(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	doc, _ := env.Doctor("Dr. Race Move", "Cardiology", -23.5, -46.6)
	mover := env.PatientToken(t, "Mover")
	start := createSlot(t, env, doc, tomorrowAt(7), 30)
	id := book(t, env, mover, start)
	current := start
	wins := map[string]int{}
	const rounds = 12
	for i := range rounds {
		target := createSlot(t, env, doc, tomorrowAt(8).Add(time.Duration(i)*time.Hour), 30)
		booker := env.PatientToken(t, fmt.Sprintf("Booker %d", i))
		var wg sync.WaitGroup
		var moved, booked apptest.Response
		go1 := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-go1
			moved = env.Do(mover, rescheduleOp, map[string]any{"id": id, "slot": target})
		}()
		go func() { defer wg.Done(); <-go1; booked = env.Do(booker, bookOp, map[string]any{"slot": target}) }()
		close(go1)
		wg.Wait()
		ok := func(r apptest.Response) bool { return r.Code() == "" }
		if ok(moved) == ok(booked) {
			t.Fatalf("round %d: reschedule %s/%s, booking %s/%s: want exactly one winner",
				i, moved.Code(), moved.Ext("reason"), booked.Code(), booked.Ext("reason"))
		}
		loser := booked
		if ok(booked) {
			loser, wins["booking"] = moved, wins["booking"]+1
		} else {
			current, wins["reschedule"] = target, wins["reschedule"]+1
		}
		if loser.Code() != "CONFLICT" || loser.Ext("reason") != "SLOT_TAKEN" {
			t.Fatalf("round %d: the loser got %s/%s", i, loser.Code(), loser.Ext("reason"))
		}
		a, err := env.DB.Client.Appointment.Get(sysCtx(), atoi(t, id))
		if err != nil || a.SlotID != atoi(t, current) {
			t.Fatalf("round %d: the appointment is in slot %d, want %s (%v)", i, a.SlotID, current, err)
		}
		active, err := env.DB.Client.Appointment.Query().Where(appointment.SlotID(atoi(t, target)),
			appointment.StatusIn(appointment.StatusREQUESTED, appointment.StatusACCEPTED)).Count(sysCtx())
		if err != nil || active != 1 {
			t.Fatalf("round %d: %d active appointments in the raced slot (%v)", i, active, err)
		}
	}
	t.Logf("winners over %d rounds: %v", rounds, wins)
}

const (
	proposeOp         = `mutation($id: ID!, $slot: ID!) { proposeReschedule(id: $id, slotId: $slot) { id proposedSlot { id } } }`
	acceptProposalOp  = `mutation($id: ID!) { acceptRescheduleProposal(id: $id) { id status startsAt proposedSlot { id } meeting { startsAt } } }`
	declineProposalOp = `mutation($id: ID!) { declineRescheduleProposal(id: $id) { id startsAt proposedSlot { id } } }`
)

// TestDoctorProposesAndPatientAnswers: the doctor proposes another of
// their slots; the patient accepts (the appointment moves, as their own
// reschedule would) or declines (nothing moves); each side is told.
func TestDoctorProposesAndPatientAnswers(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Propose", "Cardiology", -23.5, -46.6)
	otherDoc, _ := env.Doctor("Dr. Elsewhere", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Clara")
	someone, _, _ := env.Patient("Someone")
	s1 := createSlot(t, env, doc, tomorrowAt(9), 50)
	s2 := createSlot(t, env, doc, tomorrowAt(11), 50)
	s3 := createSlot(t, env, doc, tomorrowAt(13), 50)
	id := book(t, env, pat, s1)
	env.Do(doc, acceptOp, map[string]any{"id": id}).Decode(t, &struct{}{})

	for _, tc := range []struct {
		name, token, slot, code, why string
	}{
		{"the patient proposes nothing", pat, s2, "NOT_FOUND", ""},
		{"another doctor's appointment", otherDoc, createSlot(t, env, otherDoc, tomorrowAt(9), 50), "NOT_FOUND", ""},
		{"a slot of another doctor", doc, createSlot(t, env, otherDoc, tomorrowAt(15), 50), "BAD_USER_INPUT", "slotId"},
		{"the slot it is in", doc, s1, "BAD_USER_INPUT", "slotId"},
	} {
		r := env.Do(tc.token, proposeOp, map[string]any{"id": id, "slot": tc.slot})
		if r.Code() != tc.code || (tc.why != "" && r.Ext("field") != tc.why) {
			t.Errorf("%s: %s %s", tc.name, r.Code(), r.Ext("field"))
		}
	}
	if r := env.Do(pat, acceptProposalOp, map[string]any{"id": id}); r.Code() != "CONFLICT" || r.Ext("reason") != "INVALID_TRANSITION" {
		t.Fatalf("accepting no proposal: %s %s", r.Code(), r.Ext("reason"))
	}

	var prop struct {
		ProposeReschedule struct{ ProposedSlot *struct{ ID string } }
	}
	env.Do(doc, proposeOp, map[string]any{"id": id, "slot": s2}).Decode(t, &prop)
	if prop.ProposeReschedule.ProposedSlot == nil || prop.ProposeReschedule.ProposedSlot.ID != s2 {
		t.Fatalf("proposal %+v", prop)
	}
	if !slotFree(t, env, pat, s2) {
		t.Fatal("a proposal took the slot")
	}
	if r := env.Do(someone, acceptProposalOp, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
		t.Fatalf("someone else accepted: %s", r.Code())
	}
	var declined struct {
		DeclineRescheduleProposal struct {
			StartsAt     time.Time
			ProposedSlot *struct{ ID string }
		}
	}
	env.Do(pat, declineProposalOp, map[string]any{"id": id}).Decode(t, &declined)
	if d := declined.DeclineRescheduleProposal; d.ProposedSlot != nil || !d.StartsAt.Equal(tomorrowAt(9)) {
		t.Fatalf("declined: %+v", d)
	}

	env.Do(doc, proposeOp, map[string]any{"id": id, "slot": s3}).Decode(t, &prop)
	var acc struct {
		AcceptRescheduleProposal struct {
			ID, Status   string
			StartsAt     time.Time
			ProposedSlot *struct{ ID string }
			Meeting      *struct{ StartsAt time.Time }
		}
	}
	env.Do(pat, acceptProposalOp, map[string]any{"id": id}).Decode(t, &acc)
	if a := acc.AcceptRescheduleProposal; a.ID != id || a.Status != "ACCEPTED" || !a.StartsAt.Equal(tomorrowAt(13)) ||
		a.ProposedSlot != nil || a.Meeting == nil || !a.Meeting.StartsAt.Equal(tomorrowAt(13)) {
		t.Fatalf("accepted: %+v", a)
	}
	if !slotFree(t, env, pat, s1) || slotFree(t, env, pat, s3) {
		t.Fatal("accepting did not move the booking")
	}
	ctx := sysCtx()
	kinds := map[event.Kind]int{}
	evs, err := env.DB.Client.Event.Query().Where(event.AppointmentID(atoi(t, id))).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		kinds[e.Kind]++
	}
	if kinds[event.KindRESCHEDULE_PROPOSED] != 2 || kinds[event.KindRESCHEDULE_DECLINED] != 1 || kinds[event.KindBOOKING_RESCHEDULED] != 1 {
		t.Fatalf("events %v", kinds)
	}
	for k, want := range map[notification.Kind]int{notification.KindRESCHEDULE_PROPOSED: 2, notification.KindRESCHEDULE_DECLINED: 1} {
		n, err := env.DB.Client.Notification.Query().Where(notification.KindEQ(k)).Count(ctx)
		if err != nil || n != want {
			t.Errorf("%d %s notices (%v), want %d", n, k, err, want)
		}
	}
	// Accepting a proposal whose slot was booked meanwhile is SLOT_TAKEN
	// and changes nothing.
	s4 := createSlot(t, env, doc, tomorrowAt(17), 50)
	env.Do(doc, proposeOp, map[string]any{"id": id, "slot": s4}).Decode(t, &prop)
	book(t, env, someone, s4)
	if r := env.Do(pat, acceptProposalOp, map[string]any{"id": id}); r.Code() != "CONFLICT" || r.Ext("reason") != "SLOT_TAKEN" {
		t.Fatalf("accepting a taken slot: %s %s", r.Code(), r.Ext("reason"))
	}
	if a, err := env.DB.Client.Appointment.Get(ctx, atoi(t, id)); err != nil || a.SlotID != atoi(t, s3) {
		t.Fatalf("the refused acceptance moved the appointment: %v (%v)", a, err)
	}
}
