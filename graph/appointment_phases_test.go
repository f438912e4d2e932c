package graph_test

import (
	"strings"
	"testing"
	"time"
)

const (
	markNoShowOp = `mutation($id: ID!) { markNoShow(id: $id) { id status noShow invoice { id } } }`
	phaseReadOp  = `query($id: ID!) { node(id: $id) { ... on Appointment { status noShow startsAt proposedSlot { id } meeting { url } } } }`
)

// TestWhoMayDoWhatOnceTheStartHasPassed: before the start time the patient
// may cancel or move the appointment, the doctor accept, reject or
// propose another time; once it has passed the consultation is the
// doctor's to settle, completed or marked a no-show (and invoiced either
// way), nothing moves, a request can no longer be accepted and may only
// be turned down. A cancelled or rejected appointment shows no meeting
// link to either party, in the API or in its calendar file.
func TestWhoMayDoWhatOnceTheStartHasPassed(t *testing.T) {
	env, clock := newClinicEnv(t)
	doc, _ := env.Doctor("Dr. Phases", "Cardiology", -23.5, -46.6)
	pat, _, _ := env.Patient("Paula")

	const (
		before  = 0                // the slot starts an hour from now
		during  = 70 * time.Minute // started, not ended
		afterIt = 3 * time.Hour    // ended
		// A free slot of the same doctor four hours from now, still ahead
		// at every phase: a move is refused for the appointment's time,
		// not the slot's.
		elsewhere = 4 * time.Hour

		accept  = "accept"         // by the doctor
		cancel  = "cancel"         // by the patient
		reject  = "reject"         // by the doctor
		done    = "complete"       // by the doctor
		noShow  = "noShow"         // by the doctor
		move    = "reschedule"     // by the patient
		propose = "propose"        // by the doctor
		take    = "acceptProposal" // by the patient, of a proposal made before the start
		ok      = ""               // the move is made
		invalid = "CONFLICT"       // INVALID_TRANSITION
		absent  = "NOT_FOUND"      // not the caller's move
	)
	ops := map[string]struct {
		op     string
		byDoc  bool
		status string // after the move; empty: unchanged
	}{
		accept:  {acceptOp, true, "ACCEPTED"},
		cancel:  {cancelOp, false, "CANCELLED"},
		reject:  {rejectOp, true, "REJECTED"},
		done:    {completeOp, true, "COMPLETED"},
		noShow:  {markNoShowOp, true, "COMPLETED"},
		move:    {rescheduleOp, false, ""},
		propose: {proposeOp, true, ""},
		take:    {acceptProposalOp, false, ""},
	}
	for _, tc := range []struct {
		status       string // REQUESTED or ACCEPTED
		at           time.Duration
		action       string
		patientTries bool
		want         string
	}{
		{"REQUESTED", before, accept, false, ok},
		{"REQUESTED", during, accept, false, invalid},
		{"REQUESTED", afterIt, accept, false, invalid},
		{"ACCEPTED", before, accept, false, invalid},
		{"REQUESTED", before, accept, true, absent},
		{"REQUESTED", before, cancel, false, ok},
		{"ACCEPTED", before, cancel, false, ok},
		{"REQUESTED", during, cancel, false, invalid},
		{"ACCEPTED", during, cancel, false, invalid},
		{"ACCEPTED", afterIt, cancel, false, invalid},
		{"REQUESTED", before, reject, false, ok},
		{"ACCEPTED", before, reject, false, ok},
		{"REQUESTED", during, reject, false, ok},
		{"REQUESTED", afterIt, reject, false, ok},
		{"ACCEPTED", during, reject, false, invalid},
		{"ACCEPTED", afterIt, reject, false, invalid},
		{"ACCEPTED", before, done, false, invalid},
		{"ACCEPTED", during, done, false, ok},
		{"ACCEPTED", afterIt, done, false, ok},
		{"REQUESTED", afterIt, done, false, invalid},
		{"ACCEPTED", during, done, true, absent},
		{"ACCEPTED", afterIt, done, true, absent},
		{"ACCEPTED", before, noShow, false, invalid},
		{"ACCEPTED", during, noShow, false, ok},
		{"ACCEPTED", afterIt, noShow, false, ok},
		{"REQUESTED", afterIt, noShow, false, invalid},
		{"ACCEPTED", afterIt, noShow, true, absent},
		{"REQUESTED", before, move, false, ok},
		{"ACCEPTED", before, move, false, ok},
		{"REQUESTED", during, move, false, invalid},
		{"ACCEPTED", during, move, false, invalid},
		{"ACCEPTED", afterIt, move, false, invalid},
		{"ACCEPTED", before, propose, false, ok},
		{"ACCEPTED", during, propose, false, invalid},
		{"REQUESTED", afterIt, propose, false, invalid},
		{"ACCEPTED", before, take, false, ok},
		{"ACCEPTED", during, take, false, invalid},
		{"REQUESTED", afterIt, take, false, invalid},
	} {
		name := tc.status + " " + tc.at.String() + " " + tc.action
		if tc.patientTries {
			name += " by the patient"
		}
		t.Run(name, func(t *testing.T) {
			start := clock.Now().Add(time.Hour)
			slot := createSlot(t, env, doc, start, 50)
			target := createSlot(t, env, doc, clock.Now().Add(elsewhere), 50)
			id := book(t, env, pat, slot)
			if tc.status == "ACCEPTED" {
				if r := env.Do(doc, acceptOp, map[string]any{"id": id}); r.Code() != "" {
					t.Fatalf("accept: %+v", r.Errors)
				}
			}
			if tc.action == take {
				if r := env.Do(doc, proposeOp, map[string]any{"id": id, "slot": target}); r.Code() != "" {
					t.Fatalf("propose: %+v", r.Errors)
				}
			}
			clock.Advance(tc.at)
			o := ops[tc.action]
			token := pat
			if o.byDoc != tc.patientTries {
				token = doc
			}
			r := env.Do(token, o.op, map[string]any{"id": id, "r": "imprevisto", "slot": target})
			if r.Code() != tc.want || tc.want == invalid && r.Ext("reason") != "INVALID_TRANSITION" {
				t.Fatalf("%s: errors %+v, want %q", tc.action, r.Errors, tc.want)
			}

			want := tc.status
			if tc.want == ok && o.status != "" {
				want = o.status
			}
			moved := tc.want == ok && (tc.action == move || tc.action == take)
			pending := tc.action == propose && tc.want == ok || tc.action == take && tc.want != ok
			// The meeting link goes with a cancellation or a rejection; a
			// request never had one.
			hidden := want != "ACCEPTED" && want != "COMPLETED"
			for who, viewer := range map[string]string{"patient": pat, "doctor": doc} {
				var out struct {
					Node struct {
						Status       string
						NoShow       bool
						StartsAt     time.Time
						ProposedSlot *struct{ ID string }
						Meeting      *struct{ URL string }
					}
				}
				env.Do(viewer, phaseReadOp, map[string]any{"id": id}).Decode(t, &out)
				n := out.Node
				if n.Status != want || n.NoShow != (tc.want == ok && tc.action == noShow) ||
					n.StartsAt.Equal(start) == moved || (n.ProposedSlot != nil) != pending {
					t.Fatalf("%s sees %+v, want %s (moved %v, proposal pending %v)", who, n, want, moved, pending)
				}
				if (n.Meeting == nil) != hidden {
					t.Fatalf("%s: %s with meeting %+v", who, want, n.Meeting)
				}
				ics := strings.ReplaceAll(fetchICS(t, env, viewer, id, 200), "\r\n ", "")
				if strings.Contains(ics, "URL:") == hidden || !hidden && !strings.Contains(ics, n.Meeting.URL) {
					t.Fatalf("%s's calendar of a %s appointment:\n%s", who, want, ics)
				}
			}
			// Leave the clock past this appointment and the other slot
			// for the next case.
			clock.Advance(elsewhere + time.Hour - tc.at)
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
