package search

import (
	"context"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/predicate"
)

// MaxTotalCount bounds a distance search's totalCount. Counting every
// doctor within the radius reads every match (thousands around a city
// centre, each a heap block): more than the page itself, many times over.
// Counting stops at the bound, so a count costs at most that many rows;
// a client shows "200+" when it reads the bound (the schema says so).
const MaxTotalCount = 200

// totalCount is the page's totalCount when the query selected it, and
// costs nothing when it did not.
func totalCount(ctx context.Context, client *ent.Client, preds []predicate.Doctor, wanted bool) (int, error) {
	if !wanted {
		return 0, nil
	}
	return boundedCount(ctx, client, preds)
}

// boundedCount counts the doctors preds match, up to MaxTotalCount:
// SELECT count(*) FROM (SELECT id ... WHERE preds LIMIT MaxTotalCount).
// It goes through an Ent query (its driver and interceptors), whose
// modifier writes the statement: Ent applies a query's own predicates
// after its modifiers, so they are applied here to the inner select.
func boundedCount(ctx context.Context, client *ent.Client, preds []predicate.Doctor) (int, error) {
	var out []struct {
		Count int `json:"count"`
	}
	err := client.Doctor.Query().Modify(func(s *sql.Selector) {
		matches := s.Clone().Select(s.C(doctor.FieldID)).Limit(MaxTotalCount)
		for _, p := range preds {
			p(matches)
		}
		*s = *sql.Dialect(dialect.Postgres).Select(sql.As(sql.Count("*"), "count")).From(matches.As("matches"))
	}).Scan(ctx, &out)
	if err != nil || len(out) != 1 {
		return 0, err
	}
	return out[0].Count, nil
}
