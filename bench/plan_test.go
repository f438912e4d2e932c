package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/reaction"
	"github.com/healthmed/healthmed/internal/search"
)

// planDoctors is the table size the search's targets are stated for: at
// that size, with doctors clustered around cities as they are, PostGIS's
// row estimates for a radius are far off, which is what the plan must
// not depend on.
const planDoctors = 200_000

// The target search: one specialty within 10 km of São Paulo, first 20,
// with totalCount.
const planSearchOp = `query($near: GeoPointInput, $km: Float, $s: String, $min: Float, $first: Int, $after: Cursor) {
	doctors(near: $near, withinKm: $km, specialty: $s, minRating: $min, first: $first, after: $after) {
		totalCount pageInfo { endCursor } edges { node { id name distanceKm nextFreeSlot { id } } }
	}
}`

// TestSearchPlanUsesLocationIndex fails when the doctor search stops
// reading doctors nearest first from a GiST index. It does not hand-copy
// the SQL: it serves the GraphQL search from a second app wired to the
// same database through an Ent driver that records every statement, then
// EXPLAINs (FORMAT JSON) exactly those statements with their arguments on
// 200,000 seeded and analysed doctors. A page must be an index-ordered
// scan (the index's Order By, no Sort, no bitmap of every match), for the
// first page and a keyset page, with and without a specialty, each with its
// doctors' next free slots (a subplan per doctor of the page); the total
// count and a search with a minimum rating must use a GiST index. Each
// statement is checked twice: planned for its arguments (as the server's
// connections plan every execution, plan_cache_mode=force_custom_plan),
// and as the generic plan of the prepared statement, so that a deployment
// that lets PostgreSQL cache generic plans keeps the index order too.
func TestSearchPlanUsesLocationIndex(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	ctx := context.Background()
	copyTime, analyzeTime, err := workload.SeedDoctors(ctx, env.DB.SQL, planDoctors, 1)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	t.Log(workload.DescribeSeed(planDoctors, copyTime, analyzeTime))

	rec := &recordingDriver{Driver: entsql.OpenDB(dialect.Postgres, env.DB.SQL)}
	a, err := app.Build(ctx, env.Config, slog.New(slog.NewTextHandler(io.Discard, nil)), env.DB.SQL,
		ent.NewClient(ent.Driver(rec), ent.Reactions(&reaction.Deps{})))
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	near := map[string]any{"lat": workload.SaoPauloLat, "lng": workload.SaoPauloLng}
	target := map[string]any{"near": near, "km": 10.0, "s": "Cardiology", "first": 20}
	first := graphql(t, a.Handler, planSearchOp, target)
	var page struct {
		Doctors struct {
			TotalCount int
			PageInfo   struct{ EndCursor string }
		}
	}
	if err := json.Unmarshal(first, &page); err != nil || page.Doctors.PageInfo.EndCursor == "" {
		t.Fatalf("first page: %v %s", err, first)
	}
	t.Logf("totalCount %d cardiologists within 10 km of the centre (counted up to %d)", page.Doctors.TotalCount, search.MaxTotalCount)
	next := map[string]any{"after": page.Doctors.PageInfo.EndCursor}
	for k, v := range target {
		next[k] = v
	}
	graphql(t, a.Handler, planSearchOp, next)
	graphql(t, a.Handler, planSearchOp, map[string]any{"near": near, "km": 10.0, "first": 20})
	graphql(t, a.Handler, planSearchOp, map[string]any{"near": near, "km": 10.0, "s": "Cardiology", "min": 4.5, "first": 20})

	searches := rec.matching("ST_GeogFromText")
	// Four pages, each with its count.
	if len(searches) != 8 {
		t.Fatalf("recorded %d distance statements, want 8: %+v", len(searches), rec.all())
	}
	gist := func(n *planNode) bool {
		switch n.NodeType {
		case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
			return n.IndexName == "doctor_location" || n.IndexName == "doctor_specialty_code_location"
		}
		return false
	}
	var plans []struct {
		q    recordedQuery
		root planNode
	}
	for _, q := range searches {
		// The plan for these arguments, and the prepared statement's
		// generic plan.
		plans = append(plans, struct {
			q    recordedQuery
			root planNode
		}{q, explain(t, env.DB.SQL, q)}, struct {
			q    recordedQuery
			root planNode
		}{q, explainGeneric(t, env.DB.SQL, q)})
	}
	for _, p := range plans {
		q, root := p.q, p.root
		t.Logf("%s\n  plan: %s", q.SQL, root.summary())
		if root.any(func(n *planNode) bool { return n.NodeType == "Seq Scan" && n.RelationName == "doctors" }) {
			t.Errorf("the search scans the whole doctors table:\n%s\nplan: %s", q.SQL, root.summary())
		}
		if !root.any(gist) {
			t.Errorf("the search does not use a GiST index on the location:\n%s\nplan: %s", q.SQL, root.summary())
		}
		isPage := strings.Contains(q.SQL, "ORDER BY")
		if !isPage || strings.Contains(q.SQL, `"rating" >=`) {
			continue // a count, or a minimum rating: the planner's choice
		}
		if !root.any(func(n *planNode) bool { return gist(n) && n.NodeType == "Index Scan" && n.OrderBy != "" }) ||
			root.anyOnDoctors(func(n *planNode) bool { return n.NodeType == "Sort" || strings.HasPrefix(n.NodeType, "Bitmap") }) {
			t.Errorf("a page of the search is not read nearest first from the index:\n%s\nplan: %s", q.SQL, root.summary())
		}
	}
}

// explain returns the plan PostgreSQL would run q with.
func explain(t *testing.T, db *sql.DB, q recordedQuery) planNode {
	t.Helper()
	var raw []byte
	if err := db.QueryRowContext(context.Background(), "EXPLAIN (FORMAT JSON) "+q.SQL, q.Args...).Scan(&raw); err != nil {
		t.Fatalf("explain %s: %v", q.SQL, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("plan JSON: %v %s", err, raw)
	}
	return plans[0].Plan
}

// explainGeneric returns the generic plan of q prepared.
func explainGeneric(t *testing.T, db *sql.DB, q recordedQuery) planNode {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{"SET plan_cache_mode = force_generic_plan", "PREPARE plan_probe AS " + q.SQL} {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	params := make([]string, len(q.Args))
	for i := range params {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	var raw []byte
	execute := "EXECUTE plan_probe"
	if len(params) > 0 {
		execute += "(" + strings.Join(params, ", ") + ")"
	}
	// EXECUTE's arguments cannot be bind parameters: written in.
	execute = withLiterals(t, recordedQuery{SQL: execute, Args: q.Args})
	err = conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+execute).Scan(&raw)
	// Only this probe goes: the connection keeps the pool's own prepared
	// statements.
	for _, s := range []string{"DEALLOCATE plan_probe", "RESET plan_cache_mode"} {
		if _, rerr := conn.ExecContext(ctx, s); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		t.Fatalf("explain the prepared %s: %v", q.SQL, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("plan JSON: %v %s", err, raw)
	}
	return plans[0].Plan
}

// graphql posts an operation to handler and returns its data.
func graphql(t *testing.T, h http.Handler, query string, vars map[string]any) json.RawMessage {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body(query, vars)))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var res struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("HTTP %d: %v %s", w.Code, err, w.Body.Bytes())
	}
	return res.Data
}

// recordedQuery is one statement Ent sent, with its arguments.
type recordedQuery struct {
	SQL  string
	Args []any
}

// recordingDriver passes every statement to the real driver and keeps a
// copy. The search runs outside transactions, so Query is enough.
type recordingDriver struct {
	dialect.Driver
	mu      sync.Mutex
	queries []recordedQuery
}

func (d *recordingDriver) Query(ctx context.Context, query string, args, v any) error {
	a, _ := args.([]any)
	d.mu.Lock()
	d.queries = append(d.queries, recordedQuery{SQL: query, Args: append([]any(nil), a...)})
	d.mu.Unlock()
	return d.Driver.Query(ctx, query, args, v)
}

func (d *recordingDriver) all() []recordedQuery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]recordedQuery(nil), d.queries...)
}

func (d *recordingDriver) matching(s string) []recordedQuery {
	var out []recordedQuery
	for _, q := range d.all() {
		if strings.Contains(q.SQL, s) {
			out = append(out, q)
		}
	}
	return out
}

// planNode is the part of PostgreSQL's JSON plan the test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	OrderBy      string     `json:"Order By"`
	Strategy     string     `json:"Strategy"`
	PlanRows     float64    `json:"Plan Rows"`
	Parent       string     `json:"Parent Relationship"`
	Plans        []planNode `json:"Plans"`
}

func (n *planNode) any(f func(*planNode) bool) bool {
	if f(n) {
		return true
	}
	for i := range n.Plans {
		if n.Plans[i].any(f) {
			return true
		}
	}
	return false
}

// anyOnDoctors is any outside subplans: those run per doctor of the page
// (its next free slot), not over the doctors.
func (n *planNode) anyOnDoctors(f func(*planNode) bool) bool {
	if n.Parent == "SubPlan" || n.Parent == "InitPlan" {
		return false
	}
	if f(n) {
		return true
	}
	for i := range n.Plans {
		if n.Plans[i].anyOnDoctors(f) {
			return true
		}
	}
	return false
}

// summary renders the plan tree on one line: parent -> child, siblings
// in brackets.
func (n *planNode) summary() string {
	s := n.NodeType
	if n.Strategy != "" && n.Strategy != "Plain" {
		s = n.Strategy + " " + s
	}
	switch {
	case n.IndexName != "":
		s += " using " + n.IndexName
		if n.RelationName != "" {
			s += " on " + n.RelationName
		}
		if n.OrderBy != "" {
			s += " ordered by distance"
		}
	case n.RelationName != "":
		s += " on " + n.RelationName
	}
	s += " (rows≈" + strconv.FormatFloat(n.PlanRows, 'f', -1, 64) + ")"
	switch len(n.Plans) {
	case 0:
		return s
	case 1:
		return s + " -> " + n.Plans[0].summary()
	}
	parts := make([]string, len(n.Plans))
	for i := range n.Plans {
		parts[i] = n.Plans[i].summary()
	}
	return s + " -> [" + strings.Join(parts, "; ") + "]"
}
