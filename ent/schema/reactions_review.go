package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/ent/hook"
	"github.com/healthmed/healthmed/internal/viewer"
)

// onRatingsShownOrHidden runs the reactions, once per doctor, after
// ratings are hidden, shown again (hidden_at set or cleared) or deleted,
// bulk writes included. Whose ratings they are is read before the write.
func onRatingsShownOrHidden(reactions ...func(ctx context.Context, c *gen.Client, doctorID int) error) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return hook.FeedbackFunc(func(ctx context.Context, m *gen.FeedbackMutation) (ent.Value, error) {
			_, hiding := m.HiddenAt()
			if !hiding && !m.HiddenAtCleared() && !m.Op().Is(ent.OpDelete|ent.OpDeleteOne) {
				return next.Mutate(ctx, m)
			}
			sys := viewer.SystemContext(ctx)
			ids, err := m.IDs(sys)
			if err != nil {
				return nil, err
			}
			var doctors []int
			if len(ids) > 0 {
				if doctors, err = m.Client().Feedback.Query().Where(feedback.IDIn(ids...)).
					Unique(true).Select(feedback.FieldDoctorID).Ints(sys); err != nil {
					return nil, err
				}
			}
			v, err := next.Mutate(ctx, m)
			if err != nil || len(doctors) == 0 {
				return v, err
			}
			if err := reactEach(ctx, m, doctors, reactions...); err != nil {
				return nil, err
			}
			return v, nil
		})
	}, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne)
}
