package schema

import (
	"context"
	"errors"

	"entgo.io/ent"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/hook"
	"github.com/healthmed/healthmed/internal/viewer"
)

// rescheduleReaction is one consequence of an appointment moved to
// another slot; fromSlot is the slot it left, free again.
type rescheduleReaction func(ctx context.Context, c *gen.Client, a *gen.Appointment, fromSlot int) error

var errBulkReschedule = errors.New("appointments are rescheduled one at a time (UpdateOne): each move has its consequences")

// onReschedules runs the reactions, in order, after an appointment's
// slot changed. The status machine is onMoves'; a reschedule keeps the
// status and is a move of its own.
func onReschedules(reactions ...rescheduleReaction) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return hook.AppointmentFunc(func(ctx context.Context, m *gen.AppointmentMutation) (ent.Value, error) {
			to, moving := m.SlotID()
			switch {
			case !moving || m.Op().Is(ent.OpCreate):
				return next.Mutate(ctx, m)
			case !m.Op().Is(ent.OpUpdateOne):
				return nil, errBulkReschedule
			}
			from, err := m.OldSlotID(viewer.SystemContext(ctx))
			if err != nil || from == to {
				return next.Mutate(ctx, m)
			}
			v, err := next.Mutate(ctx, m)
			a, ok := v.(*gen.Appointment)
			if err != nil || !ok {
				return v, err
			}
			ctx, c := written(ctx, m)
			for _, react := range reactions {
				if err := react(ctx, c, a, from); err != nil {
					return nil, err
				}
			}
			return a, nil
		})
	}
}

// rescheduled makes a reaction to the status machine's moves react to
// a reschedule too, as the move BOOKING_RESCHEDULED.
func rescheduled(react appointmentReaction) rescheduleReaction {
	return func(ctx context.Context, c *gen.Client, a *gen.Appointment, _ int) error {
		return react(ctx, c, event.KindBOOKING_RESCHEDULED, a)
	}
}

// onProposals runs the reactions after the doctor proposes a new time
// (RESCHEDULE_PROPOSED) or the patient declines it (RESCHEDULE_DECLINED).
// An acceptance moves the appointment, which onReschedules reacts to.
func onProposals(reactions ...appointmentReaction) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return hook.AppointmentFunc(func(ctx context.Context, m *gen.AppointmentMutation) (ent.Value, error) {
			_, proposing := m.ProposedSlotID()
			declining := m.ProposedSlotIDCleared()
			_, moving := m.SlotID()
			if m.Op().Is(ent.OpCreate) || moving || (!proposing && !declining) {
				return next.Mutate(ctx, m)
			}
			if !m.Op().Is(ent.OpUpdateOne) {
				return nil, errBulkReschedule
			}
			kind := event.KindRESCHEDULE_PROPOSED
			if !proposing {
				was, err := m.OldProposedSlotID(viewer.SystemContext(ctx))
				if err != nil || was == nil {
					return next.Mutate(ctx, m)
				}
				kind = event.KindRESCHEDULE_DECLINED
			}
			v, err := next.Mutate(ctx, m)
			a, ok := v.(*gen.Appointment)
			if err != nil || !ok {
				return v, err
			}
			ctx, c := written(ctx, m)
			for _, react := range reactions {
				if err := react(ctx, c, kind, a); err != nil {
					return nil, err
				}
			}
			return a, nil
		})
	}
}
