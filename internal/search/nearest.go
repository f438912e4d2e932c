package search

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/scalar"
)

// maxTieRows bounds how far a page reads into doctors at one same
// distance (a clinic's address) to order them by id.
const maxTieRows = 4096

// nearest pages through the doctors nearest to a.Near.
//
// The statement is an index-ordered nearest-neighbour scan: ORDER BY
// location <-> point on the GiST index (specialty, location) reads the
// doctors nearest first and stops at the page's LIMIT, whatever the
// density around the point. The radius is applied to what it returns, not
// written as ST_DWithin: PostGIS underestimates how many rows a distance
// filter keeps (50 times too few around São Paulo), and the planner then
// prefers reading every match through a bitmap and sorting them all.
// Without a distance predicate the only geographic use of an index is the
// ordering, so the plan does not depend on those estimates. Reading nearest
// first, the rows within the radius all come before the first one beyond
// it, so a page that reaches past the radius is the end of the list.
//
// A minimum rating can keep most of the nearest doctors out, so the scan
// could run far past the radius looking for a page; with one, the radius
// is also a predicate (ST_DWithin on the sphere, bounding the scan by the
// index), whatever plan the planner then picks.
//
// Distances are PostGIS's `<->` on geography, in metres on the mean
// sphere: the same number orders the list, bounds the radius, is shown as
// distanceKm and is kept in the cursor, so pages never repeat or skip.
// Equal distances are ordered by id here, after the index order (a second
// ORDER BY key would make PostgreSQL sort every row again).
func nearest(ctx context.Context, client *ent.Client, q *ent.DoctorQuery, preds []predicate.Doctor, a DoctorArgs, first int) (*ent.DoctorConnection, error) {
	// The point and the radius are arguments, so the statement's text is
	// the same for every search and stays prepared.
	pt := a.Near.EWKT()
	dist := func(s *sql.Selector) func(*sql.Builder) { return distanceTo(s, pt) }
	within := func(radius float64) predicate.Doctor { return withinRadius(pt, radius) }
	radius := -1.0
	if a.WithinKm != nil {
		radius = *a.WithinKm * 1000
		preds = append(preds, within(radius))
		if a.MinRating != nil {
			q.Where(within(radius))
		}
	}
	total, err := totalCount(ctx, client, preds, a.CountTotal)
	if err != nil {
		return nil, err
	}
	if a.After != nil {
		// Expect made it a finite float; a distance is never negative.
		d := a.After.Value.(float64)
		if d < 0 {
			return nil, gqlerr.BadInput("after", "this cursor belongs to another list")
		}
		id := a.After.ID
		q.Where(func(s *sql.Selector) {
			s.Where(sql.Or(
				sql.P(func(b *sql.Builder) { dist(s)(b); b.WriteString(" > ").Arg(d) }),
				sql.And(
					sql.P(func(b *sql.Builder) { dist(s)(b); b.WriteString(" = ").Arg(d) }),
					sql.GT(s.C(doctor.FieldID), id),
				),
			))
		})
	}
	q.Select(columnsFor(a.Fields)...)
	q.Modify(func(s *sql.Selector) {
		s.AppendSelectExprAs(sql.ExprFunc(dist(s)), DistanceColumn)
		s.OrderExpr(sql.ExprFunc(dist(s)))
	})
	// Read first+1 rows; when the row after the page is at the same
	// distance as the page's last, the rows at that distance may go on
	// past the LIMIT in any order, so read on until the distance changes.
	var rows []*ent.Doctor
	for limit := first + 1; ; limit *= 2 {
		var err error
		if rows, err = q.Clone().Limit(limit).All(ctx); err != nil {
			return nil, err
		}
		if len(rows) < limit || limit >= maxTieRows {
			break
		}
		last, _ := rows[len(rows)-1].DistanceM()
		if edge, _ := rows[first-1].DistanceM(); edge != last || (radius >= 0 && edge > radius) {
			break
		}
	}
	nodes := make([]*ent.Doctor, 0, len(rows))
	dists := make([]float64, 0, len(rows))
	for _, n := range rows {
		m, _ := n.DistanceM()
		if radius >= 0 && m > radius {
			break
		}
		nodes, dists = append(nodes, n), append(dists, m)
	}
	sortTies(nodes, dists)
	conn := &ent.DoctorConnection{TotalCount: total}
	fillPage(conn, nodes, first, a.After, func(i int, n *ent.Doctor) scalar.Cursor {
		return scalar.Cursor{ID: n.ID, Value: dists[i]}
	})
	return conn, nil
}

// distanceTo writes the distance in metres from the doctor to the point
// (EWKT), as the nearest-neighbour order computes it.
func distanceTo(s *sql.Selector, pt string) func(*sql.Builder) {
	return func(b *sql.Builder) {
		b.WriteString("(" + s.C(doctor.FieldLocation) + " <-> ST_GeogFromText(").Arg(pt).WriteString("))")
	}
}

// withinRadius matches the doctors within radius metres of the point on
// the sphere.
func withinRadius(pt string, radius float64) predicate.Doctor {
	return func(s *sql.Selector) {
		// Qualified now: the count reads the selector under an alias.
		loc := s.C(doctor.FieldLocation)
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString("ST_DWithin(" + loc + ", ST_GeogFromText(").Arg(pt).
				WriteString("), ").Arg(radius).WriteString(", false)")
		}))
	}
}

// sortTies orders rows already in distance order (dists, in step) by id
// within each run of equal distances.
func sortTies(rows []*ent.Doctor, dists []float64) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0; j-- {
			if dists[j-1] != dists[j] || rows[j-1].ID < rows[j].ID {
				break
			}
			rows[j-1], rows[j] = rows[j], rows[j-1]
		}
	}
}
