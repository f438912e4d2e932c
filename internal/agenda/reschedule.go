package agenda

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/meeting"
)

// toRescheduled: an active appointment moves to another slot before it
// starts; the status does not change (see Reschedule).
var toRescheduled = []transition{{[]appointment.Status{appointment.StatusREQUESTED, appointment.StatusACCEPTED}, "", beforeStart}}

// Reschedule moves the patient's appointment to another free slot of the
// same doctor, in one write: the appointment keeps its id, status,
// price, history and notices; the old slot is free at the same commit
// (and offered to the doctor's waitlist). The same constraints as a
// booking decide every race: the partial unique index on the active
// appointments of a slot (CONFLICT/SLOT_TAKEN), the patient's no-overlap
// constraint (PATIENT_OVERLAP), the waitlist hold (SLOT_HELD); the loser
// of a race changes nothing.
//
// An ACCEPTED appointment stays ACCEPTED, its video room (same address)
// moved to the new time: the doctor published the slot as bookable, the move is told
// to them at once (live and by e-mail), and they may still reject it
// before it starts as they could any accepted consultation. Sending it
// back to REQUESTED would put a confirmed consultation at risk for the
// patient who only asked for another hour.
func (s *Service) Reschedule(ctx context.Context, id, slotID int) (*ent.Appointment, error) {
	a, err := s.loadMovable(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.move(ctx, a, slotID)
}

// move takes the locked appointment a to the slot; a pending proposal
// of the doctor's is answered by it.
func (s *Service) move(ctx context.Context, a *ent.Appointment, slotID int) (*ent.Appointment, error) {
	if a.SlotID == slotID {
		return a, nil
	}
	sl, err := s.rescheduleTarget(ctx, a, slotID)
	if err != nil {
		return nil, err
	}
	u := a.Update().SetSlotID(sl.ID).SetStartsAt(sl.StartsAt).SetEndsAt(sl.EndsAt).ClearProposedSlotID()
	if a.Status == appointment.StatusACCEPTED {
		room, err := s.Meetings.Create(ctx, meeting.Request{AppointmentID: a.ID, StartsAt: sl.StartsAt, EndsAt: sl.EndsAt})
		if err != nil {
			return nil, err
		}
		// The room keeps its address; its times, which bound the signed
		// join links, follow the consultation.
		if a.MeetingURL == nil {
			u.SetMeetingURL(room.URL)
		}
		u.SetMeetingStartsAt(room.StartsAt).SetMeetingEndsAt(room.EndsAt)
	}
	return u.Save(ctx)
}

// rescheduleTarget reads the slot an appointment is to move to, FOR
// SHARE as a booking takes it: a concurrent move or withdrawal of the
// slot waits, so the times copied are the slot's at commit.
func (s *Service) rescheduleTarget(ctx context.Context, a *ent.Appointment, slotID int) (*ent.Slot, error) {
	sl, err := s.db(ctx).Slot.Query().Where(slot.ID(slotID), slot.DeletedAtIsNil()).ForShare().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("slot")
	}
	if err != nil {
		return nil, err
	}
	if sl.DoctorID != a.DoctorID {
		return nil, gqlerr.BadInput("slotId", "the new slot must be one of the same doctor's")
	}
	if !sl.StartsAt.After(s.now()) {
		return nil, gqlerr.BadInput("slotId", "the slot has already started")
	}
	return sl, nil
}
