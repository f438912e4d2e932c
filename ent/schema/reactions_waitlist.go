package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/hook"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
)

// onHoldsEnded runs the reactions after held offers end unused (EXPIRED,
// or WITHDRAWN because their entry left or their slot went), one call
// per offer, bulk writes included. Which offers, and their slots, are
// read before the write: a bulk update names them by its predicates.
func onHoldsEnded(reactions ...func(ctx context.Context, c *gen.Client, o *gen.WaitlistOffer) error) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.WaitlistOfferFunc(func(ctx context.Context, m *gen.WaitlistOfferMutation) (ent.Value, error) {
			status, ok := m.Status()
			if !ok || (status != waitlistoffer.StatusEXPIRED && status != waitlistoffer.StatusWITHDRAWN) {
				return next.Mutate(ctx, m)
			}
			return readWriteReact(ctx, next, m, func(sys context.Context, ids []int) ([]*gen.WaitlistOffer, error) {
				return m.Client().WaitlistOffer.Query().
					Where(waitlistoffer.IDIn(ids...), waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).
					Select(waitlistoffer.FieldID, waitlistoffer.FieldDoctorID, waitlistoffer.FieldSlotID).All(sys)
			}, reactions...)
		})
	}, ent.OpUpdate|ent.OpUpdateOne)
}
