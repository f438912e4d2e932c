package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/ent/hook"
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
			return readWriteReact(ctx, next, m, func(sys context.Context, ids []int) ([]int, error) {
				return m.Client().Feedback.Query().Where(feedback.IDIn(ids...)).
					Unique(true).Select(feedback.FieldDoctorID).Ints(sys)
			}, reactions...)
		})
	}, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne)
}
