package graph_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	createSlotsOp = `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id startsAt endsAt free } }`
	updateSlotOp  = `mutation($id: ID!, $in: SlotInput!) { updateSlot(id: $id, input: $in) { id startsAt } }`
	deleteSlotOp  = `mutation($id: ID!) { deleteSlot(id: $id) }`
	bookOp        = `mutation($slot: ID!, $key: String) { bookAppointment(slotId: $slot, idempotencyKey: $key) { id status startsAt doctor { name } patient { name } } }`
	acceptOp      = `mutation($id: ID!) { acceptAppointment(id: $id) { id status meeting { url startsAt endsAt } } }`
	rejectOp      = `mutation($id: ID!) { rejectAppointment(id: $id, reason: "away") { id status rejectReason } }`
	cancelOp      = `mutation($id: ID!, $r: String!) { cancelAppointment(id: $id, reason: $r) { id status cancelReason } }`
	completeOp    = `mutation($id: ID!) { completeAppointment(id: $id) { id status } }`
	slotFreeOp    = `query($id: ID!) { node(id: $id) { ... on Slot { free } } }`
)

func slotAt(start time.Time, minutes int) map[string]any {
	return map[string]any{"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)}
}

func tomorrowAt(hour int) time.Time {
	d := time.Now().UTC().AddDate(0, 0, 2)
	return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, time.UTC)
}

func createSlot(t *testing.T, env *apptest.Env, doctor string, start time.Time, minutes int) string {
	t.Helper()
	var out struct{ CreateSlots []struct{ ID string } }
	env.Do(doctor, createSlotsOp, map[string]any{"in": []any{slotAt(start, minutes)}}).Decode(t, &out)
	return out.CreateSlots[0].ID
}

func book(t *testing.T, env *apptest.Env, patient, slot string) string {
	t.Helper()
	var out struct{ BookAppointment struct{ ID, Status string } }
	env.Do(patient, bookOp, map[string]any{"slot": slot}).Decode(t, &out)
	if out.BookAppointment.Status != "REQUESTED" {
		t.Fatalf("booking status %q", out.BookAppointment.Status)
	}
	return out.BookAppointment.ID
}

func TestCreateSlotsValidatesAndRefusesOverlapAtomically(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Agenda", "Cardiology", -23.5, -46.6)
	createSlot(t, env, doc, tomorrowAt(9), 60)
	past := time.Now().Add(-time.Hour)
	cases := []struct {
		name   string
		in     []any
		code   string
		reason string
	}{
		{"in the past", []any{slotAt(past, 30)}, "BAD_USER_INPUT", ""},
		{"ends before it starts", []any{slotAt(tomorrowAt(12), -30)}, "BAD_USER_INPUT", ""},
		{"longer than four hours", []any{slotAt(tomorrowAt(12), 241)}, "BAD_USER_INPUT", ""},
		{"overlaps an existing slot", []any{slotAt(tomorrowAt(11), 30), slotAt(tomorrowAt(9).Add(30*time.Minute), 60)}, "CONFLICT", "SLOT_OVERLAP"},
		{"overlap inside the batch", []any{slotAt(tomorrowAt(14), 60), slotAt(tomorrowAt(14).Add(30*time.Minute), 60)}, "CONFLICT", "SLOT_OVERLAP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(doc, createSlotsOp, map[string]any{"in": tc.in})
			if r.Code() != tc.code || r.Ext("reason") != tc.reason {
				t.Fatalf("code %q reason %q, want %q %q (%+v)", r.Code(), r.Ext("reason"), tc.code, tc.reason, r.Errors)
			}
			n, err := env.DB.Client.Slot.Query().Count(sysCtx())
			if err != nil || n != 1 {
				t.Fatalf("slots after a failed batch: %d (err %v), want 1", n, err)
			}
		})
	}
	patient, _, _ := env.Patient("Pat")
	if r := env.Do(patient, createSlotsOp, map[string]any{"in": []any{slotAt(tomorrowAt(15), 30)}}); r.Code() != "FORBIDDEN" {
		t.Fatalf("patient creating slots: %q", r.Code())
	}
	if r := env.Do("", createSlotsOp, map[string]any{"in": []any{slotAt(tomorrowAt(15), 30)}}); r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous creating slots: %q", r.Code())
	}
}

func TestOverlappingSlotsRacedFromManyConnectionsOneWins(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Race", "Cardiology", -23.5, -46.6)
	const racers = 16
	var wg sync.WaitGroup
	codes := make([]string, racers)
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			// Each racer's slot overlaps every other's by at least 30 min.
			s := tomorrowAt(10).Add(time.Duration(i) * time.Minute)
			r := env.Do(doc, createSlotsOp, map[string]any{"in": []any{slotAt(s, 60)}})
			codes[i] = r.Code() + "/" + r.Ext("reason")
		}(i)
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, c := range codes {
		switch c {
		case "/":
			wins++
		case "CONFLICT/SLOT_OVERLAP":
		default:
			t.Errorf("unexpected outcome %q", c)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racers created an overlapping slot, want exactly 1 (%v)", wins, codes)
	}
}

func TestTwoHundredPatientsBookOneSlotOneWins(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled()) // 200 bookings from one address on purpose
	doc, _ := env.Doctor("Dr. Popular", "Cardiology", -23.5, -46.6)
	slot := createSlot(t, env, doc, tomorrowAt(9), 50)
	const n = 200
	tokens := make([]string, n)
	for i := range tokens {
		// Tokens are minted directly: 200 argon2 registrations would only
		// measure password hashing.
		tokens[i] = env.PatientToken(t, fmt.Sprintf("Patient %d", i))
	}
	var wg sync.WaitGroup
	results := make([]string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := env.Do(tokens[i], bookOp, map[string]any{"slot": slot})
			results[i] = r.Code() + "/" + r.Ext("reason")
		}(i)
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, r := range results {
		count[r]++
	}
	if count["/"] != 1 || count["CONFLICT/SLOT_TAKEN"] != n-1 {
		t.Fatalf("outcomes %v, want 1 success and %d SLOT_TAKEN", count, n-1)
	}
	active, err := env.DB.Client.Appointment.Query().Count(sysCtx())
	if err != nil || active != 1 {
		t.Fatalf("appointments in the database: %d (err %v)", active, err)
	}
}

func TestAppointmentStatusMachine(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled()) // one patient books a dozen times
	doc, _ := env.Doctor("Dr. Flow", "Cardiology", -23.5, -46.6)
	other, _ := env.Doctor("Dr. Other", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Paula")
	stranger, _, _ := env.Patient("Stranger")

	// Each case starts from a fresh appointment brought to `from`.
	type step struct {
		op    string
		actor string
		vars  map[string]any
	}
	accept := func(id string) step { return step{acceptOp, doc, map[string]any{"id": id}} }
	cancel := func(id string) step { return step{cancelOp, pat, map[string]any{"id": id, "r": "cannot come"}} }
	reject := func(id string) step { return step{rejectOp, doc, map[string]any{"id": id}} }
	complete := func(id string) step { return step{completeOp, doc, map[string]any{"id": id}} }
	toState := map[string][]func(string) step{
		"REQUESTED": nil,
		"ACCEPTED":  {accept},
		"REJECTED":  {reject},
		"CANCELLED": {cancel},
	}
	moves := map[string]func(string) step{"ACCEPT": accept, "REJECT": reject, "CANCEL": cancel, "COMPLETE": complete}
	cases := []struct {
		from, move string
		wantStatus string
		wantCode   string
	}{
		{"REQUESTED", "ACCEPT", "ACCEPTED", ""},
		{"REQUESTED", "REJECT", "REJECTED", ""},
		{"REQUESTED", "CANCEL", "CANCELLED", ""},
		{"REQUESTED", "COMPLETE", "", "CONFLICT"},
		{"ACCEPTED", "CANCEL", "CANCELLED", ""},
		{"ACCEPTED", "REJECT", "REJECTED", ""},
		{"ACCEPTED", "ACCEPT", "", "CONFLICT"},
		{"ACCEPTED", "COMPLETE", "", "CONFLICT"}, // not started yet
		{"CANCELLED", "ACCEPT", "", "CONFLICT"},
		{"CANCELLED", "CANCEL", "", "CONFLICT"},
		{"REJECTED", "ACCEPT", "", "CONFLICT"},
		{"REJECTED", "CANCEL", "", "CONFLICT"},
	}
	hour := 0
	for _, tc := range cases {
		t.Run(tc.from+"_"+tc.move, func(t *testing.T) {
			hour++
			slot := createSlot(t, env, doc, tomorrowAt(0).Add(time.Duration(hour)*time.Hour), 50)
			id := book(t, env, pat, slot)
			for _, s := range toState[tc.from] {
				st := s(id)
				if r := env.Do(st.actor, st.op, st.vars); r.Code() != "" {
					t.Fatalf("setup to %s: %+v", tc.from, r.Errors)
				}
			}
			st := moves[tc.move](id)
			// Nobody but the right party may even see the appointment.
			for name, intruder := range map[string]string{"other doctor": other, "other patient": stranger} {
				if r := env.Do(intruder, st.op, st.vars); r.Code() != "NOT_FOUND" {
					t.Fatalf("%s: code %q, want NOT_FOUND", name, r.Code())
				}
			}
			if r := env.Do("", st.op, st.vars); r.Code() != "UNAUTHENTICATED" {
				t.Fatalf("anonymous: code %q", r.Code())
			}
			r := env.Do(st.actor, st.op, st.vars)
			if r.Code() != tc.wantCode {
				t.Fatalf("code %q, want %q (%+v)", r.Code(), tc.wantCode, r.Errors)
			}
			if tc.wantCode == "CONFLICT" && r.Ext("reason") != "INVALID_TRANSITION" {
				t.Fatalf("reason %q", r.Ext("reason"))
			}
			if tc.wantStatus != "" {
				var got map[string]struct {
					Status  string
					Meeting *struct{ URL string }
				}
				r.Decode(t, &got)
				for _, a := range got {
					if a.Status != tc.wantStatus {
						t.Fatalf("status %q, want %q", a.Status, tc.wantStatus)
					}
					if (a.Status == "ACCEPTED") != (a.Meeting != nil) {
						t.Fatalf("meeting %+v with status %s", a.Meeting, a.Status)
					}
				}
			}
			// The slot is free again exactly when the appointment ended.
			var s struct{ Node struct{ Free bool } }
			env.Do("", slotFreeOp, map[string]any{"id": slot}).Decode(t, &s)
			status := tc.wantStatus
			if status == "" {
				status = tc.from
			}
			if wantFree := status != "REQUESTED" && status != "ACCEPTED"; s.Node.Free != wantFree {
				t.Fatalf("slot free = %v with status %s", s.Node.Free, status)
			}
		})
	}
}

func TestAcceptCreatesMeetingAndCancelFreesSlot(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Meet", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Mia")
	start := tomorrowAt(13)
	slot := createSlot(t, env, doc, start, 60)
	id := book(t, env, pat, slot)
	var acc struct {
		AcceptAppointment struct {
			Meeting struct {
				URL              string
				StartsAt, EndsAt time.Time
			}
		}
	}
	env.Do(doc, acceptOp, map[string]any{"id": id}).Decode(t, &acc)
	m := acc.AcceptAppointment.Meeting
	if len(m.URL) < 40 || !m.StartsAt.Equal(start) || m.EndsAt.Sub(m.StartsAt) != 50*time.Minute {
		t.Fatalf("meeting = %+v", m)
	}
	// A slot holding an active appointment can be neither moved nor deleted.
	if r := env.Do(doc, updateSlotOp, map[string]any{"id": slot, "in": slotAt(start.Add(2*time.Hour), 60)}); r.Code() != "CONFLICT" {
		t.Fatalf("moving a booked slot: %q", r.Code())
	}
	if r := env.Do(doc, deleteSlotOp, map[string]any{"id": slot}); r.Code() != "CONFLICT" {
		t.Fatalf("deleting a booked slot: %q", r.Code())
	}
	for _, blank := range []string{"", "   "} {
		if r := env.Do(pat, cancelOp, map[string]any{"id": id, "r": blank}); r.Code() != "BAD_USER_INPUT" || r.Ext("field") != "reason" {
			t.Fatalf("blank reason %q: %q %q", blank, r.Code(), r.Ext("field"))
		}
	}
	env.Do(pat, cancelOp, map[string]any{"id": id, "r": "feeling better"}).Decode(t, &struct{}{})
	// Free again: someone else books it, then the doctor can no longer delete it.
	other, _, _ := env.Patient("Otto")
	book(t, env, other, slot)
}

func TestBookingIsIdempotentAndRefusesPastAndOverlap(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Idem", "Cardiology", -23.5, -46.6)
	doc2, _ := env.Doctor("Dr. Two", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Ivo")
	slot := createSlot(t, env, doc, tomorrowAt(8), 60)
	var a, b struct{ BookAppointment struct{ ID string } }
	env.Do(pat, bookOp, map[string]any{"slot": slot, "key": "k-1"}).Decode(t, &a)
	env.Do(pat, bookOp, map[string]any{"slot": slot, "key": "k-1"}).Decode(t, &b)
	if a.BookAppointment.ID != b.BookAppointment.ID {
		t.Fatalf("retry made a second booking: %s vs %s", a.BookAppointment.ID, b.BookAppointment.ID)
	}
	// Another doctor's slot at an overlapping time: the patient is busy.
	clash := createSlot(t, env, doc2, tomorrowAt(8).Add(30*time.Minute), 60)
	if r := env.Do(pat, bookOp, map[string]any{"slot": clash}); r.Code() != "CONFLICT" || r.Ext("reason") != "PATIENT_OVERLAP" {
		t.Fatalf("overlapping booking: %q %q", r.Code(), r.Ext("reason"))
	}
	if r := env.Do(pat, bookOp, map[string]any{"slot": "25769999999"}); r.Code() != "NOT_FOUND" {
		t.Fatalf("unknown slot: %q", r.Code())
	}
	if r := env.Do(doc, bookOp, map[string]any{"slot": slot}); r.Code() != "FORBIDDEN" {
		t.Fatalf("doctor booking: %q", r.Code())
	}
}
