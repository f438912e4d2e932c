package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/hook"
	"github.com/healthmed/healthmed/internal/txn"
)

// wakesOutbox wakes this replica's e-mail worker once new notifications
// commit, whichever writer made them: before the commit the worker would
// find nothing, and after a rollback there is nothing to find.
func wakesOutbox() ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.NotificationFunc(func(ctx context.Context, m *gen.NotificationMutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			ctx, c := written(ctx, m)
			txn.AfterCommit(ctx, c.Reactions.WakeOutbox)
			return v, nil
		})
	}, ent.OpCreate)
}
