package agenda

import (
	"context"
	"strings"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/graph/model"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/meeting"
	"github.com/healthmed/healthmed/internal/viewer"
)

const maxIdempotencyKey = 100

// Book asks for an appointment in a slot. The partial unique index on
// active appointments decides between concurrent bookers: exactly one
// wins, the others get CONFLICT/SLOT_TAKEN.
func (s *Service) Book(ctx context.Context, slotID int, idempotencyKey *string) (*ent.Appointment, error) {
	v, err := gqlerr.RequirePatient(ctx)
	if err != nil {
		return nil, err
	}
	key := ""
	if idempotencyKey != nil {
		key = strings.TrimSpace(*idempotencyKey)
		if key == "" || len(key) > maxIdempotencyKey {
			return nil, gqlerr.BadInput("idempotencyKey", "idempotencyKey has 1 to %d characters", maxIdempotencyKey)
		}
		prev, err := s.db(ctx).Appointment.Query().
			Where(appointment.PatientID(v.ID), appointment.IdempotencyKey(key)).Only(ctx)
		switch {
		case err == nil && prev.SlotID == slotID:
			return prev, nil
		case err == nil:
			return nil, gqlerr.BadInput("idempotencyKey", "idempotencyKey was used for another booking")
		case !ent.IsNotFound(err):
			return nil, err
		}
	}
	// FOR SHARE: bookers do not block one another, but a concurrent move
	// or withdrawal of the slot (FOR UPDATE) waits, so the times copied
	// below are the slot's times at commit.
	sl, err := s.db(ctx).Slot.Query().Where(slot.ID(slotID), slot.DeletedAtIsNil()).ForShare().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("slot")
	}
	if err != nil {
		return nil, err
	}
	if !sl.StartsAt.After(s.now()) {
		return nil, gqlerr.BadInput("slotId", "the slot has already started")
	}
	price, err := s.db(ctx).Doctor.Query().Where(doctor.ID(sl.DoctorID)).Select(doctor.FieldPriceCents).Int(ctx)
	if err != nil {
		return nil, err
	}
	c := s.db(ctx).Appointment.Create().
		SetSlotID(sl.ID).SetDoctorID(sl.DoctorID).SetPatientID(v.ID).
		SetStartsAt(sl.StartsAt).SetEndsAt(sl.EndsAt).SetPriceCents(price)
	if key != "" {
		c.SetIdempotencyKey(key)
	}
	a, err := c.Save(ctx)
	return s.changed(ctx, event.KindBOOKING_REQUESTED, a, err)
}

// transition is one legal move of the status machine and who may make it.
type transition struct {
	from []appointment.Status
	to   appointment.Status
	by   viewer.Role
}

var (
	toAccepted  = transition{[]appointment.Status{appointment.StatusREQUESTED}, appointment.StatusACCEPTED, viewer.Doctor}
	toRejected  = transition{[]appointment.Status{appointment.StatusREQUESTED, appointment.StatusACCEPTED}, appointment.StatusREJECTED, viewer.Doctor}
	toCancelled = transition{[]appointment.Status{appointment.StatusREQUESTED, appointment.StatusACCEPTED}, appointment.StatusCANCELLED, viewer.Patient}
	toCompleted = transition{[]appointment.Status{appointment.StatusACCEPTED}, appointment.StatusCOMPLETED, viewer.Doctor}
)

// load locks the appointment for a transition. The privacy filter lets
// each party see only their own appointments, so anyone else gets
// NOT_FOUND, as the contract requires.
func (s *Service) load(ctx context.Context, id int, t transition) (*ent.Appointment, error) {
	var err error
	if t.by == viewer.Doctor {
		_, err = gqlerr.RequireDoctor(ctx)
	} else {
		_, err = gqlerr.RequirePatient(ctx)
	}
	if err != nil {
		// The other party's mutations read as absent to them too.
		if v := viewer.FromContext(ctx); v.IsDoctor() || v.IsPatient() {
			return nil, gqlerr.NotFoundError("appointment")
		}
		return nil, err
	}
	a, err := s.db(ctx).Appointment.Query().Where(appointment.ID(id)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("appointment")
	}
	if err != nil {
		return nil, err
	}
	for _, f := range t.from {
		if a.Status == f {
			return a, nil
		}
	}
	return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition,
		"cannot go from "+string(a.Status)+" to "+string(t.to))
}

// Accept confirms a requested appointment and opens its video room.
func (s *Service) Accept(ctx context.Context, id int) (*ent.Appointment, error) {
	a, err := s.load(ctx, id, toAccepted)
	if err != nil {
		return nil, err
	}
	if !a.EndsAt.After(s.now()) {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the appointment time has passed")
	}
	room, err := s.Meetings.Create(ctx, meeting.Request{AppointmentID: a.ID, StartsAt: a.StartsAt, EndsAt: a.EndsAt})
	if err != nil {
		return nil, err
	}
	a, err = a.Update().SetStatus(appointment.StatusACCEPTED).
		SetMeetingURL(room.URL).SetMeetingStartsAt(room.StartsAt).SetMeetingEndsAt(room.EndsAt).
		Save(ctx)
	return s.changed(ctx, event.KindBOOKING_ACCEPTED, a, err)
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
	a, err = u.Save(ctx)
	return s.changed(ctx, event.KindBOOKING_REJECTED, a, err)
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
	a, err = a.Update().SetStatus(appointment.StatusCANCELLED).SetCancelReason(r).Save(ctx)
	return s.changed(ctx, event.KindBOOKING_CANCELLED, a, err)
}

// Complete marks a consultation that has started as done.
func (s *Service) Complete(ctx context.Context, id int) (*ent.Appointment, error) {
	a, err := s.load(ctx, id, toCompleted)
	if err != nil {
		return nil, err
	}
	if a.StartsAt.After(s.now()) {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the consultation has not started yet")
	}
	a, err = a.Update().SetStatus(appointment.StatusCOMPLETED).Save(ctx)
	return s.changed(ctx, event.KindBOOKING_COMPLETED, a, err)
}

// Meeting is Appointment.meeting, present once the doctor accepted. The
// link is the viewer's own: the doctor's makes them moderator.
func (s *Service) Meeting(ctx context.Context, a *ent.Appointment) (*model.Meeting, error) {
	if a.MeetingURL == nil || a.MeetingStartsAt == nil || a.MeetingEndsAt == nil {
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
	return &model.Meeting{URL: u, StartsAt: room.StartsAt, EndsAt: room.EndsAt}, nil
}
