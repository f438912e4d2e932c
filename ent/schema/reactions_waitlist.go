package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/hook"
)

// onOffers runs the reactions after a waitlist offer is made.
func onOffers(reactions ...func(ctx context.Context, c *gen.Client, o *gen.WaitlistOffer) error) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.WaitlistOfferFunc(func(ctx context.Context, m *gen.WaitlistOfferMutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			o, ok := v.(*gen.WaitlistOffer)
			if err != nil || !ok {
				return v, err
			}
			ctx, c := written(ctx, m)
			for _, react := range reactions {
				if err := react(ctx, c, o); err != nil {
					return nil, err
				}
			}
			return o, nil
		})
	}, ent.OpCreate)
}
