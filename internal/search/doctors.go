// Package search finds doctors: by specialty and rating, and by distance
// with PostGIS, with Relay cursors that stay stable across pages.
package search

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/internal/geo"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/scalar"
)

const (
	// MaxWithinKm bounds a search's radius so one query cannot scan a
	// continent.
	MaxWithinKm  = 500
	DefaultFirst = 20
	MaxFirst     = 100
	// DistanceColumn is the selected distance in metres, exactly as the
	// cursor compares it, so pages neither repeat nor skip a doctor.
	DistanceColumn = "distance_m"
)

// DoctorArgs are the arguments of Query.doctors.
type DoctorArgs struct {
	Near      *geo.Point
	WithinKm  *float64
	Specialty *string
	MinRating *float64
	First     *int
	After     *scalar.Cursor
	// CountTotal asks for totalCount, which costs a second pass over
	// every match: only when the client selected it.
	CountTotal bool
}

// Doctors runs the search. With a point it orders by distance then id;
// without, by id.
func Doctors(ctx context.Context, client *ent.Client, a DoctorArgs) (*ent.DoctorConnection, error) {
	first, err := a.validate()
	if err != nil {
		return nil, err
	}
	q := client.Doctor.Query()
	if a.Specialty != nil {
		q.Where(doctor.Specialty(*a.Specialty))
	}
	if a.MinRating != nil {
		q.Where(doctor.RatingGTE(*a.MinRating))
	}
	if a.Near == nil {
		if err := scalar.Expect(a.After, scalar.KindID); err != nil {
			return nil, err
		}
		return q.Paginate(ctx, a.After, &first, nil, nil)
	}
	if err := scalar.Expect(a.After, scalar.KindFloat); err != nil {
		return nil, err
	}
	// The point and radius are validated floats formatted by strconv, so
	// writing them as literals is safe, and it keeps the distance
	// expression identical in SELECT, WHERE and ORDER BY.
	pt := "ST_GeogFromText('" + a.Near.EWKT() + "')"
	dist := func(s *sql.Selector) string { return "ST_Distance(" + s.C(doctor.FieldLocation) + ", " + pt + ")" }
	if a.WithinKm != nil {
		radius := strconv.FormatFloat(*a.WithinKm*1000, 'g', -1, 64)
		q.Where(func(s *sql.Selector) {
			s.Where(sql.ExprP("ST_DWithin(" + s.C(doctor.FieldLocation) + ", " + pt + ", " + radius + ")"))
		})
	}
	total := 0
	if a.CountTotal {
		if total, err = q.Clone().Count(ctx); err != nil {
			return nil, err
		}
	}
	page := q.Clone()
	if a.After != nil {
		// Expect made it a finite float; a distance is never negative.
		d := a.After.Value.(float64)
		if d < 0 {
			return nil, gqlerr.BadInput("after", "this cursor belongs to another list")
		}
		page.Where(func(s *sql.Selector) {
			s.Where(sql.ExprP(fmt.Sprintf("(%s, %s) > (%s, %d)", dist(s), s.C(doctor.FieldID),
				strconv.FormatFloat(d, 'g', -1, 64), a.After.ID)))
		})
	}
	nodes, err := page.Limit(first + 1).Modify(func(s *sql.Selector) {
		s.AppendSelectExprAs(sql.Expr(dist(s)), DistanceColumn)
		s.OrderExpr(sql.Expr(dist(s)), sql.Expr(s.C(doctor.FieldID)))
	}).All(ctx)
	if err != nil {
		return nil, err
	}
	conn := &ent.DoctorConnection{TotalCount: total}
	conn.PageInfo.HasPreviousPage = a.After != nil
	if len(nodes) > first {
		conn.PageInfo.HasNextPage = true
		nodes = nodes[:first]
	}
	for _, n := range nodes {
		m, _ := distanceM(n)
		c := scalar.Cursor{ID: n.ID, Value: m}
		conn.Edges = append(conn.Edges, &ent.DoctorEdge{Node: n, Cursor: c})
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	return conn, nil
}

// DistanceKm returns the distance a distance search selected for d.
func DistanceKm(d *ent.Doctor) (float64, bool) {
	m, ok := distanceM(d)
	return m / 1000, ok
}

func distanceM(d *ent.Doctor) (float64, bool) {
	v, err := d.Value(DistanceColumn)
	if err != nil {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case []byte:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

func (a DoctorArgs) validate() (int, error) {
	first, err := gqlerr.Page(a.First, DefaultFirst, MaxFirst)
	if err != nil {
		return 0, err
	}
	if a.Near != nil {
		if err := a.Near.Validate(); err != nil {
			return 0, gqlerr.BadInput("near", "%s", err.Error())
		}
	}
	if a.WithinKm != nil {
		if a.Near == nil {
			return 0, gqlerr.BadInput("withinKm", "withinKm needs near")
		}
		if w := *a.WithinKm; math.IsNaN(w) || w <= 0 || w > MaxWithinKm {
			return 0, gqlerr.BadInput("withinKm", "withinKm must be greater than 0 and at most %d", MaxWithinKm)
		}
	}
	if a.MinRating != nil {
		if r := *a.MinRating; math.IsNaN(r) || r < 0 || r > 5 {
			return 0, gqlerr.BadInput("minRating", "minRating must be between 0 and 5")
		}
	}
	return first, nil
}
