package review

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/feedback"
	"github.com/healthmed/healthmed/internal/viewer"
)

// The doctor's average (Doctor.rating and ratingCount) is the server's
// own bookkeeping of their visible ratings, not anyone's write to the
// doctor's profile. The reactions below keep it, declared on the
// Feedback schema: c is the writer's transaction, so the average moves
// in the same commit as the ratings.

// Rated folds a new visible rating into its doctor's average. One UPDATE
// reads and writes the row under its lock, so concurrent ratings never
// lose one another.
func Rated(ctx context.Context, c *ent.Client, f *ent.Feedback) error {
	if f.HiddenAt != nil {
		return nil
	}
	return c.Doctor.UpdateOneID(f.DoctorID).Modify(func(u *sql.UpdateBuilder) {
		u.Set(doctor.FieldRating, sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("(" + doctor.FieldRating + " * " + doctor.FieldRatingCount + " + ").Arg(f.Stars).
				WriteString(") / (" + doctor.FieldRatingCount + " + 1)")
		}))
		u.Set(doctor.FieldRatingCount, sql.Expr(doctor.FieldRatingCount+" + 1"))
	}).Exec(viewer.SystemContext(ctx))
}

// Recount sets the doctor's average and count from their visible
// ratings, after ratings were hidden, shown again or deleted. The
// doctor's row is locked first, so the count, a statement of its own,
// sees every rating whose fold-in committed before it (Rated takes the
// same row lock).
func Recount(ctx context.Context, c *ent.Client, doctorID int) error {
	sys := viewer.SystemContext(ctx)
	if _, err := c.Doctor.Query().Where(doctor.ID(doctorID)).Modify(func(s *sql.Selector) {
		s.For(sql.LockNoKeyUpdate)
	}).Select(doctor.FieldID).Ints(sys); err != nil {
		return err
	}
	var agg []struct {
		Sum   *int `json:"sum"`
		Count int  `json:"count"`
	}
	if err := c.Feedback.Query().Where(feedback.DoctorID(doctorID), feedback.HiddenAtIsNil()).
		Aggregate(ent.Sum(feedback.FieldStars), ent.Count()).Scan(sys, &agg); err != nil {
		return err
	}
	avg, count := 0.0, 0
	if len(agg) == 1 && agg[0].Count > 0 && agg[0].Sum != nil {
		count = agg[0].Count
		avg = float64(*agg[0].Sum) / float64(count)
	}
	return c.Doctor.UpdateOneID(doctorID).SetRating(avg).SetRatingCount(count).Exec(sys)
}
