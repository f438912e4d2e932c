package search

import (
	"context"
	"strconv"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/internal/scalar"
)

// RatingScoreColumn is the selected score of a best-rated-first search,
// exactly as the cursor compares it.
const RatingScoreColumn = "rating_score"

// ratingScore is the database's doctor_rating_score (its migration says
// why a Bayesian average): the expression of the index
// (doctor_rating_score(rating, rating_count), id).
func ratingScore(s *sql.Selector) string {
	return "doctor_rating_score(" + s.C(doctor.FieldRating) + ", " + s.C(doctor.FieldRatingCount) + ")"
}

// byRating pages through the doctors best rated first: by score, then by
// id, both descending, so that the cursor is one row comparison the
// index's backward scan answers and the page stops at its LIMIT.
func byRating(ctx context.Context, client *ent.Client, q *ent.DoctorQuery, preds []predicate.Doctor, a DoctorArgs, first int) (*ent.DoctorConnection, error) {
	preds = showDistance(q, preds, a)
	total, err := totalCount(ctx, client, preds, a.CountTotal)
	if err != nil {
		return nil, err
	}
	conn := &ent.DoctorConnection{TotalCount: total}
	if a.After != nil {
		// Expect made it a Rating, and decoding a score between 0 and 5.
		score, id := a.After.Value.(scalar.Rating).Score, a.After.ID
		q.Where(func(s *sql.Selector) {
			expr := ratingScore(s)
			idCol := s.C(doctor.FieldID)
			s.Where(sql.P(func(b *sql.Builder) {
				b.WriteString("(" + expr + ", " + idCol + ") < (").Arg(score).WriteString(", ").Arg(id).WriteString(")")
			}))
		})
	}
	q.Select(columnsFor(a.Fields)...)
	q.Modify(func(s *sql.Selector) {
		expr := ratingScore(s)
		s.AppendSelectExprAs(sql.Expr(expr), RatingScoreColumn)
		s.OrderExpr(sql.Expr(expr + " DESC"))
		s.OrderBy(sql.Desc(s.C(doctor.FieldID)))
	})
	nodes, err := q.Limit(first + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	fillPage(conn, nodes, first, a.After, func(_ int, n *ent.Doctor) scalar.Cursor {
		return scalar.Cursor{ID: n.ID, Value: scalar.Rating{Score: scoreOf(n)}}
	})
	return conn, nil
}

func scoreOf(d *ent.Doctor) float64 {
	v, _ := d.Value(RatingScoreColumn)
	switch x := v.(type) {
	case float64:
		return x
	case []byte:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	}
	return 0
}
