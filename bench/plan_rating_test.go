package bench

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/app"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/reaction"
)

const planRatedOp = `query($order: DoctorOrder, $name: String, $first: Int, $after: Cursor) {
	doctors(orderBy: $order, name: $name, first: $first, after: $after) {
		pageInfo { endCursor } edges { node { id name rating } }
	}
}`

// TestSearchRatingAndNamePlansUseTheirIndexes fails when a best-rated-first
// page stops reading doctors_rating_score in order (a backward index scan
// that stops at the LIMIT, no Sort of every doctor), for the first page
// and a keyset page, planned for the arguments and as a generic plan; or
// when a name prefix stops reading doctors_name_folded. The statements are
// the server's own, recorded as in TestSearchPlanUsesLocationIndex, on
// 200,000 seeded doctors. A name prefix is only checked planned for its
// argument: a generic plan cannot turn LIKE's pattern into an index range.
// Then, with free slots around São Paulo, a page ordered by the next free
// slot must read slots_starts_at_offered in time order, with no Sort of
// every match (an Incremental Sort of equal start times is fine).
func TestSearchRatingAndNamePlansUseTheirIndexes(t *testing.T) {
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
	var page struct {
		Doctors struct{ PageInfo struct{ EndCursor string } }
	}
	first := graphql(t, a.Handler, planRatedOp, map[string]any{"order": "RATING", "first": 20})
	if err := json.Unmarshal(first, &page); err != nil || page.Doctors.PageInfo.EndCursor == "" {
		t.Fatalf("first page: %v %s", err, first)
	}
	graphql(t, a.Handler, planRatedOp, map[string]any{"order": "RATING", "first": 20, "after": page.Doctors.PageInfo.EndCursor})
	graphql(t, a.Handler, planRatedOp, map[string]any{"name": "dr. bench 0123", "first": 20})

	rated := rec.matching("doctor_rating_score")
	if len(rated) != 2 {
		t.Fatalf("recorded %d rating statements, want 2: %+v", len(rated), rec.all())
	}
	for _, q := range rated {
		for _, root := range []planNode{explain(t, env.DB.SQL, q), explainGeneric(t, env.DB.SQL, q)} {
			t.Logf("%s\n  plan: %s", q.SQL, root.summary())
			if !root.any(func(n *planNode) bool { return n.NodeType == "Index Scan" && n.IndexName == "doctors_rating_score" }) ||
				root.anyOnDoctors(func(n *planNode) bool {
					return n.NodeType == "Sort" || n.NodeType == "Seq Scan" || strings.HasPrefix(n.NodeType, "Bitmap")
				}) {
				t.Errorf("a best-rated page is not read in order from doctors_rating_score:\n%s\nplan: %s", q.SQL, root.summary())
			}
		}
	}
	named := rec.matching("LIKE specialty_fold")
	if len(named) != 1 {
		t.Fatalf("recorded %d name statements, want 1: %+v", len(named), rec.all())
	}
	root := explain(t, env.DB.SQL, named[0])
	t.Logf("%s\n  plan: %s", named[0].SQL, root.summary())
	if !root.any(func(n *planNode) bool { return n.IndexName == "doctors_name_folded" }) {
		t.Errorf("a name prefix does not read doctors_name_folded:\n%s\nplan: %s", named[0].SQL, root.summary())
	}

	// The soonest free slot first: read from the slots in time order.
	free, err := workload.SeedSlots(ctx, env.DB.SQL)
	if err != nil {
		t.Fatalf("seed slots: %v", err)
	}
	t.Logf("%d free slots", free)
	first = graphql(t, a.Handler, planRatedOp, map[string]any{"order": "NEXT_FREE_SLOT", "first": 20})
	if err := json.Unmarshal(first, &page); err != nil || page.Doctors.PageInfo.EndCursor == "" {
		t.Fatalf("first soonest page: %v %s", err, first)
	}
	graphql(t, a.Handler, planRatedOp, map[string]any{"order": "NEXT_FREE_SLOT", "first": 20, "after": page.Doctors.PageInfo.EndCursor})
	soonest := rec.matching(`"ns"`)
	if len(soonest) != 2 {
		t.Fatalf("recorded %d next-free-slot statements, want 2: %+v", len(soonest), rec.all())
	}
	for _, q := range soonest {
		for _, root := range []planNode{explain(t, env.DB.SQL, q), explainGeneric(t, env.DB.SQL, q)} {
			t.Logf("%s\n  plan: %s", q.SQL, root.summary())
			if !root.any(func(n *planNode) bool { return n.IndexName == "slots_starts_at_offered" }) ||
				root.anyOnDoctors(func(n *planNode) bool { return n.NodeType == "Sort" || n.NodeType == "Seq Scan" }) {
				t.Errorf("a soonest-slot page is not read from the slots in time order:\n%s\nplan: %s", q.SQL, root.summary())
			}
		}
	}
}
