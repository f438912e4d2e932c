package search

import (
	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/scalar"
)

// fillPage makes conn's page of nodes, read with one more than first to
// tell whether another page follows: the edges with each node's cursor
// (cursorOf) and the page info.
func fillPage(conn *ent.DoctorConnection, nodes []*ent.Doctor, first int, after *scalar.Cursor, cursorOf func(*ent.Doctor) scalar.Cursor) {
	conn.PageInfo.HasPreviousPage = after != nil
	if len(nodes) > first {
		conn.PageInfo.HasNextPage = true
		nodes = nodes[:first]
	}
	conn.Edges = make([]*ent.DoctorEdge, len(nodes))
	for i, n := range nodes {
		conn.Edges[i] = &ent.DoctorEdge{Node: n, Cursor: cursorOf(n)}
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
}
