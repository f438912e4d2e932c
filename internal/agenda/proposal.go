package agenda

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/gqlerr"
)

// ProposeReschedule is the doctor's proposal of another of their slots
// for an active appointment that has not started. Nothing moves and the
// slot is not held: the patient accepts (AcceptProposal, which then
// moves the appointment like their own reschedule, with the same
// conflicts) or declines it. A new proposal replaces a pending one.
func (s *Service) ProposeReschedule(ctx context.Context, id, slotID int) (*ent.Appointment, error) {
	a, err := s.loadMovable(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.SlotID == slotID {
		return nil, gqlerr.BadInput("slotId", "the appointment is already in that slot")
	}
	sl, err := s.rescheduleTarget(ctx, a, slotID)
	if err != nil {
		return nil, err
	}
	taken, err := s.db(ctx).Appointment.Query().Where(appointment.SlotID(sl.ID),
		appointment.StatusIn(appointment.StatusREQUESTED, appointment.StatusACCEPTED)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, gqlerr.ConflictError(gqlerr.ReasonSlotTaken, "slot is already taken")
	}
	return a.Update().SetProposedSlotID(sl.ID).Save(ctx)
}

// AcceptProposal moves the patient's appointment to the slot its doctor
// proposed.
func (s *Service) AcceptProposal(ctx context.Context, id int) (*ent.Appointment, error) {
	a, err := s.loadProposal(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.move(ctx, a, *a.ProposedSlotID)
}

// DeclineProposal keeps the appointment where it is; the doctor is told.
func (s *Service) DeclineProposal(ctx context.Context, id int) (*ent.Appointment, error) {
	a, err := s.loadProposal(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.Update().ClearProposedSlotID().Save(ctx)
}

func (s *Service) loadProposal(ctx context.Context, id int) (*ent.Appointment, error) {
	a, err := s.loadMovable(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.ProposedSlotID == nil {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the doctor proposed no other time")
	}
	return a, nil
}

// loadMovable locks an appointment that may still move.
func (s *Service) loadMovable(ctx context.Context, id int) (*ent.Appointment, error) {
	a, err := s.load(ctx, id, toRescheduled)
	if e, ok := err.(*gqlerr.Error); ok && e.Reason == gqlerr.ReasonInvalidTransition {
		return nil, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "only an active appointment that has not started can be rescheduled")
	}
	return a, err
}

// ProposedSlot is Appointment.proposedSlot, gone with a withdrawn slot.
func (s *Service) ProposedSlot(ctx context.Context, a *ent.Appointment) (*ent.Slot, error) {
	if a.ProposedSlotID == nil {
		return nil, nil
	}
	sl, err := s.Client.Slot.Query().Where(slot.ID(*a.ProposedSlotID), slot.DeletedAtIsNil()).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return sl, err
}
