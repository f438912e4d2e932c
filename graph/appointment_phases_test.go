package graph_test

import (
	"testing"
	"time"
)

const (
	markNoShowOp = `mutation($id: ID!) { markNoShow(id: $id) { id status noShow invoice { id } } }`
	phaseReadOp  = `query($id: ID!) { node(id: $id) { ... on Appointment { status noShow meeting { url } } } }`
)

// TestWhoMayDoWhatOnceTheStartHasPassed: before the start time the patient
// may cancel and the doctor reject; once it has passed the consultation is
// the doctor's to settle, completed or marked a no-show (and invoiced
// either way), and a request never accepted may still be turned down.
func TestWhoMayDoWhatOnceTheStartHasPassed(t *testing.T) {
	env, clock := newClinicEnv(t)
	doc, _ := env.Doctor("Dr. Phases", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Paula")

	const (
		before  = 0                // the slot starts an hour from now
		during  = 70 * time.Minute // started, not ended
		afterIt = 3 * time.Hour    // ended
		cancel  = "cancel"         // by the patient
		reject  = "reject"         // by the doctor
		done    = "complete"       // by the doctor
		noShow  = "noShow"         // by the doctor
		ok      = ""               // the move is made
		invalid = "CONFLICT"       // INVALID_TRANSITION
		absent  = "NOT_FOUND"      // not the caller's move
	)
	ops := map[string]struct {
		op     string
		byDoc  bool
		status string
	}{
		cancel: {cancelOp, false, "CANCELLED"},
		reject: {rejectOp, true, "REJECTED"},
		done:   {completeOp, true, "COMPLETED"},
		noShow: {markNoShowOp, true, "COMPLETED"},
	}
	for _, tc := range []struct {
		status       string // REQUESTED or ACCEPTED
		at           time.Duration
		action       string
		patientTries bool
		want         string
	}{
		{"REQUESTED", before, cancel, false, ok},
		{"ACCEPTED", before, cancel, false, ok},
		{"REQUESTED", during, cancel, false, invalid},
		{"ACCEPTED", during, cancel, false, invalid},
		{"ACCEPTED", afterIt, cancel, false, invalid},
		{"REQUESTED", before, reject, false, ok},
		{"ACCEPTED", before, reject, false, ok},
		{"REQUESTED", afterIt, reject, false, ok},
		{"ACCEPTED", during, reject, false, invalid},
		{"ACCEPTED", afterIt, reject, false, invalid},
		{"ACCEPTED", before, done, false, invalid},
		{"ACCEPTED", during, done, false, ok},
		{"ACCEPTED", afterIt, done, false, ok},
		{"REQUESTED", afterIt, done, false, invalid},
		{"ACCEPTED", before, noShow, false, invalid},
		{"ACCEPTED", afterIt, noShow, false, ok},
		{"REQUESTED", afterIt, noShow, false, invalid},
		{"ACCEPTED", afterIt, noShow, true, absent},
	} {
		name := tc.status + " " + tc.at.String() + " " + tc.action
		if tc.patientTries {
			name += " by the patient"
		}
		t.Run(name, func(t *testing.T) {
			slot := createSlot(t, env, doc, clock.Now().Add(time.Hour), 50)
			id := book(t, env, pat, slot)
			if tc.status == "ACCEPTED" {
				if r := env.Do(doc, acceptOp, map[string]any{"id": id}); r.Code() != "" {
					t.Fatalf("accept: %+v", r.Errors)
				}
			}
			clock.Advance(tc.at)
			o := ops[tc.action]
			token := pat
			if o.byDoc != tc.patientTries {
				token = doc
			}
			r := env.Do(token, o.op, map[string]any{"id": id, "r": "imprevisto"})
			if r.Code() != tc.want || tc.want == invalid && r.Ext("reason") != "INVALID_TRANSITION" {
				t.Fatalf("%s: errors %+v, want %q", tc.action, r.Errors, tc.want)
			}
			var out struct {
				Node struct {
					Status  string
					NoShow  bool
					Meeting *struct{ URL string }
				}
			}
			env.Do(pat, phaseReadOp, map[string]any{"id": id}).Decode(t, &out)
			want := tc.status
			if tc.want == ok {
				want = o.status
			}
			if out.Node.Status != want || out.Node.NoShow != (tc.want == ok && tc.action == noShow) {
				t.Fatalf("now %+v, want %s", out.Node, want)
			}
			// The meeting link goes with a cancellation or a rejection.
			hidden := want == "CANCELLED" || want == "REJECTED" || tc.status == "REQUESTED"
			if (out.Node.Meeting == nil) != hidden {
				t.Fatalf("%s: meeting %+v", want, out.Node.Meeting)
			}
			// Leave the clock past this appointment for the next case.
			clock.Advance(afterIt)
		})
	}

	// A no-show is invoiced like a consultation held.
	slot := createSlot(t, env, doc, clock.Now().Add(time.Hour), 50)
	id := book(t, env, pat, slot)
	env.Do(doc, acceptOp, map[string]any{"id": id}).Decode(t, &struct{}{})
	clock.Advance(afterIt)
	var out struct {
		MarkNoShow struct {
			Status  string
			NoShow  bool
			Invoice *struct{ ID string }
		}
	}
	env.Do(doc, markNoShowOp, map[string]any{"id": id}).Decode(t, &out)
	if out.MarkNoShow.Status != "COMPLETED" || !out.MarkNoShow.NoShow || out.MarkNoShow.Invoice == nil {
		t.Fatalf("no-show %+v", out.MarkNoShow)
	}
}
