package agenda

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/address"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/meeting"
	"github.com/healthmed/healthmed/internal/viewer"
)

const maxIdempotencyKey = 100

// Book asks for an appointment in a slot. The partial unique index on
// active appointments decides between concurrent bookers: exactly one
// wins, the others get CONFLICT/SLOT_TAKEN.
func (s *Service) Book(ctx context.Context, slotID int, idempotencyKey *string) (*ent.Appointment, error) {
	v := viewer.FromContext(ctx)
	key := ""
	if idempotencyKey != nil {
		key = strings.TrimSpace(*idempotencyKey)
		if key == "" || len(key) > maxIdempotencyKey {
			return nil, gqlerr.BadInput("idempotencyKey", "idempotencyKey has 1 to %d characters", maxIdempotencyKey)
		}
		// A key is the patient's own, as the privacy rule shows them
		// their own appointments only.
		prev, err := s.db(ctx).Appointment.Query().Where(appointment.IdempotencyKey(key)).Only(ctx)
		switch {
		case err == nil && prev.SlotID == slotID:
			return prev, nil
		case err == nil:
			return nil, gqlerr.BadInput("idempotencyKey", "idempotencyKey was used for another booking")
		case !ent.IsNotFound(err):
			return nil, err
		}
	}
	sl, err := s.bookable(ctx, slotID)
	if err != nil {
		return nil, err
	}
	if !sl.StartsAt.After(s.now()) {
		return nil, gqlerr.BadInput("slotId", "the slot has already started")
	}
	// The appointment keeps the address it was booked at: a doctor who
	// moves later does not move the patient's appointment.
	c := s.db(ctx).Appointment.Create().
		SetSlotID(sl.ID).SetDoctorID(sl.DoctorID).SetPatientID(v.ID).
		SetStartsAt(sl.StartsAt).SetEndsAt(sl.EndsAt).SetPriceCents(sl.PriceCents)
	if len(sl.Address) > 0 {
		var at address.Address
		if err := json.Unmarshal(sl.Address, &at); err != nil {
			return nil, err
		}
		c.SetAddress(&at)
	}
	if key != "" {
		c.SetIdempotencyKey(key)
	}
	return c.Save(ctx)
}

// bookableSlot is what a booking copies from its slot and the slot's
// doctor.
type bookableSlot struct {
	ID         int       `sql:"id"`
	DoctorID   int       `sql:"doctor_id"`
	StartsAt   time.Time `sql:"starts_at"`
	EndsAt     time.Time `sql:"ends_at"`
	PriceCents int       `sql:"price_cents"`
	// Address is the doctor's address as stored (JSON), nil when none.
	Address []byte `sql:"address"`
}

// bookable reads the slot, not withdrawn, with its doctor's price, in one
// statement. FOR SHARE: bookers do not block one another, but a
// concurrent move or withdrawal of the slot (FOR UPDATE) waits, so the
// times copied are the slot's times at commit. The price comes from a
// subquery, which locks nothing: a join would share-lock the doctor's row
// too, for every booking of their agenda.
func (s *Service) bookable(ctx context.Context, slotID int) (bookableSlot, error) {
	var found []bookableSlot
	// Only a verified doctor's slot is bookable; an administrator's
	// rejection racing this booking may let this one booking through, which
	// the doctor can still reject.
	err := s.db(ctx).Slot.Query().Where(slot.ID(slotID), slot.DeletedAtIsNil(),
		slot.HasDoctorWith(doctor.VerificationEQ(doctor.VerificationVERIFIED))).ForShare().
		Modify(func(q *sql.Selector) {
			d := sql.Table(doctor.Table)
			q.Select(q.C(slot.FieldID), q.C(slot.FieldDoctorID), q.C(slot.FieldStartsAt), q.C(slot.FieldEndsAt)).
				AppendSelectExprAs(sql.Select(d.C(doctor.FieldPriceCents)).From(d).
					Where(sql.ColumnsEQ(d.C(doctor.FieldID), q.C(slot.FieldDoctorID))), "price_cents").
				AppendSelectExprAs(sql.Select(d.C(doctor.FieldAddress)).From(d).
					Where(sql.ColumnsEQ(d.C(doctor.FieldID), q.C(slot.FieldDoctorID))), "address")
		}).Scan(ctx, &found)
	switch {
	case err != nil:
		return bookableSlot{}, err
	case len(found) == 0:
		return bookableSlot{}, gqlerr.NotFoundError("slot")
	}
	return found[0], nil
}

// phase is when, against the appointment's start, a move may be made.
type phase int

const (
	anytime     phase = iota
	beforeStart       // the consultation has not started
	afterStart        // its start time has passed
)

// transition is one legal move of the status machine. Who may make it is
// declared on its mutation in the schema (@hasRole).
type transition struct {
	from []appointment.Status
	to   appointment.Status
	when phase
}

// The status machine. Once the start time has passed the consultation is
// the doctor's to settle: they complete it, or mark a no-show (COMPLETED
// too, flagged, so the reserved time is invoiced either way), and the
// patient can no longer cancel, nor the doctor reject what they accepted:
// either would end a consultation that took place without its invoice.
// Nothing moves any more either (toRescheduled). A request is accepted
// before its start or not at all: the patient was never told the
// consultation would take place, so a late acceptance would make billable
// a consultation nobody confirmed to them. Such a request may still be
// turned down after its time, which bills nothing and clears the agenda;
// left alone it stays REQUESTED, and nothing bills it.
var (
	toAccepted = []transition{{[]appointment.Status{appointment.StatusREQUESTED}, appointment.StatusACCEPTED, beforeStart}}
	toRejected = []transition{
		{[]appointment.Status{appointment.StatusREQUESTED}, appointment.StatusREJECTED, anytime},
		{[]appointment.Status{appointment.StatusACCEPTED}, appointment.StatusREJECTED, beforeStart},
	}
	toCancelled = []transition{{[]appointment.Status{appointment.StatusREQUESTED, appointment.StatusACCEPTED}, appointment.StatusCANCELLED, beforeStart}}
	toCompleted = []transition{{[]appointment.Status{appointment.StatusACCEPTED}, appointment.StatusCOMPLETED, afterStart}}
)

// permits says whether one of the moves takes an appointment in status
// from, started or not, to their target.
func permits(moves []transition, from appointment.Status, started bool) bool {
	for _, t := range moves {
		if !slices.Contains(t.from, from) {
			continue
		}
		if t.when == anytime || (t.when == afterStart) == started {
			return true
		}
	}
	return false
}

// load locks the appointment for a transition. The privacy filter lets
// each party see only their own appointments, so anyone else gets
// NOT_FOUND, as the contract requires; the schema keeps the other party's
// mutations from them the same way (@hasRole with denied: NOT_FOUND).
func (s *Service) load(ctx context.Context, id int, moves []transition) (*ent.Appointment, error) {
	a, err := s.db(ctx).Appointment.Query().Where(appointment.ID(id)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("appointment")
	}
	if err != nil {
		return nil, err
	}
	started := !a.StartsAt.After(s.now())
	if permits(moves, a.Status, started) {
		return a, nil
	}
	to := string(moves[0].to)
	switch {
	case permits(moves, a.Status, !started) && started:
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the consultation has started: it cannot go to "+to)
	case permits(moves, a.Status, !started):
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the consultation has not started yet")
	}
	return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "cannot go from "+string(a.Status)+" to "+to)
}

// Accept confirms a requested appointment and opens its video room.
func (s *Service) Accept(ctx context.Context, id int) (*ent.Appointment, error) {
	a, err := s.load(ctx, id, toAccepted)
	if err != nil {
		return nil, err
	}
	room, err := s.Meetings.Create(ctx, meeting.Request{AppointmentID: a.ID, StartsAt: a.StartsAt, EndsAt: a.EndsAt})
	if err != nil {
		return nil, err
	}
	return a.Update().SetStatus(appointment.StatusACCEPTED).
		SetMeetingURL(room.URL).SetMeetingStartsAt(room.StartsAt).SetMeetingEndsAt(room.EndsAt).
		Save(ctx)
}

// Reject declines an appointment; the slot is free again.
func (s *Service) Reject(ctx context.Context, id int, reason *string) (*ent.Appointment, error) {
	var r string
	if reason != nil {
		r = strings.TrimSpace(*reason)
		if len([]rune(r)) > MaxReasonLength {
			return nil, gqlerr.BadInput("reason", "reason has at most %d characters", MaxReasonLength)
		}
	}
	a, err := s.load(ctx, id, toRejected)
	if err != nil {
		return nil, err
	}
	u := a.Update().SetStatus(appointment.StatusREJECTED)
	if r != "" {
		u.SetRejectReason(r)
	}
	return u.Save(ctx)
}

// Cancel withdraws the patient's appointment; the reason is required.
func (s *Service) Cancel(ctx context.Context, id int, reason string) (*ent.Appointment, error) {
	r := strings.TrimSpace(reason)
	if r == "" {
		return nil, gqlerr.BadInput("reason", "a reason is required")
	}
	if len([]rune(r)) > MaxReasonLength {
		return nil, gqlerr.BadInput("reason", "reason has at most %d characters", MaxReasonLength)
	}
	a, err := s.load(ctx, id, toCancelled)
	if err != nil {
		return nil, err
	}
	return a.Update().SetStatus(appointment.StatusCANCELLED).SetCancelReason(r).Save(ctx)
}

// Complete marks a consultation that has started as done.
func (s *Service) Complete(ctx context.Context, id int) (*ent.Appointment, error) {
	return s.complete(ctx, id, false)
}

// MarkNoShow settles a consultation the patient did not attend: it is
// completed, flagged as a no-show, and invoiced like any other, since the
// time was kept for them.
func (s *Service) MarkNoShow(ctx context.Context, id int) (*ent.Appointment, error) {
	return s.complete(ctx, id, true)
}

func (s *Service) complete(ctx context.Context, id int, noShow bool) (*ent.Appointment, error) {
	a, err := s.load(ctx, id, toCompleted)
	if err != nil {
		return nil, err
	}
	return settle(ctx, a, noShow)
}

// settle is the one write that completes a consultation, whoever makes
// it: the doctor (complete, markNoShow) or the clinic job
// (CompleteOverdue). The schema's reactions issue the invoice.
func settle(ctx context.Context, a *ent.Appointment, noShow bool) (*ent.Appointment, error) {
	return a.Update().SetStatus(appointment.StatusCOMPLETED).SetNoShow(noShow).Save(ctx)
}

// Meeting is Appointment.meeting, present once the doctor accepted and
// gone once the appointment is cancelled or rejected. The
// link is the viewer's own: the doctor's makes them moderator.
func (s *Service) Meeting(ctx context.Context, a *ent.Appointment) (*Meeting, error) {
	if a.MeetingURL == nil || a.MeetingStartsAt == nil || a.MeetingEndsAt == nil {
		return nil, nil
	}
	// A cancelled or rejected consultation has no room to join.
	if a.Status == appointment.StatusCANCELLED || a.Status == appointment.StatusREJECTED {
		return nil, nil
	}
	room := meeting.Room{URL: *a.MeetingURL, StartsAt: *a.MeetingStartsAt, EndsAt: *a.MeetingEndsAt}
	var p meeting.Participant
	switch v := viewer.FromContext(ctx); {
	case v.IsDoctor() && v.ID == a.DoctorID:
		d, err := s.Client.Doctor.Get(ctx, a.DoctorID)
		if err != nil {
			return nil, err
		}
		p = meeting.Participant{Name: d.Name, Moderator: true}
	case v.IsPatient() && v.ID == a.PatientID:
		pt, err := s.Client.Patient.Get(ctx, a.PatientID)
		if err != nil {
			return nil, err
		}
		p = meeting.Participant{Name: pt.Name}
	default:
		return nil, nil
	}
	u, err := s.Meetings.JoinURL(room, p)
	if err != nil {
		return nil, err
	}
	return &Meeting{URL: u, StartsAt: room.StartsAt, EndsAt: room.EndsAt}, nil
}
