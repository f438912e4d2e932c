package search

import (
	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/internal/scalar"
)

// fillPage makes conn's page of nodes, read with one more than first to
// tell whether another page follows: the edges with each node's cursor
// (cursorOf, given its index in nodes) and the page info.
func fillPage(conn *ent.DoctorConnection, nodes []*ent.Doctor, first int, after *scalar.Cursor, cursorOf func(int, *ent.Doctor) scalar.Cursor) {
	conn.PageInfo.HasPreviousPage = after != nil
	if len(nodes) > first {
		conn.PageInfo.HasNextPage = true
		nodes = nodes[:first]
	}
	conn.Edges = make([]*ent.DoctorEdge, len(nodes))
	for i, n := range nodes {
		conn.Edges[i] = &ent.DoctorEdge{Node: n, Cursor: cursorOf(i, n)}
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
}

// showDistance is how an order other than the distance takes a point: the
// page shows each doctor's distance, and a radius filters (its predicate
// is added to q and to the returned preds, which the count reuses).
func showDistance(q *ent.DoctorQuery, preds []predicate.Doctor, a DoctorArgs) []predicate.Doctor {
	if a.Near == nil {
		return preds
	}
	pt := a.Near.EWKT()
	if a.WithinKm != nil {
		w := withinRadius(pt, *a.WithinKm*1000)
		preds = append(preds, w)
		q.Where(w)
	}
	q.Modify(func(s *sql.Selector) { s.AppendSelectExprAs(sql.ExprFunc(distanceTo(s, pt)), DistanceColumn) })
	return preds
}
