package live_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/testdb"
)

// The reads of the events table the hub makes on its own (its starting
// position, then every poll) walk the (ord, id) index, whatever the
// table's size: at 200,000 events neither reads the table whole nor sorts
// it. The statements are the ones the hub sends, captured as it runs.
func TestHubReadsEventsThroughTheOrderIndex(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	if _, err := d.SQL.ExecContext(ctx, `
ALTER TABLE events DISABLE TRIGGER events_ord;
INSERT INTO events (created_at, kind, doctor_id, patient_id, ord)
SELECT now(), 'BOOKING_REQUESTED', i % 2000 + 1, i % 50000 + 1, i FROM generate_series(1, 200000) i;
ALTER TABLE events ENABLE TRIGGER events_ord;
SELECT setval('event_ord_seq', 200000);
ANALYZE events`); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var reads []string
	drv := dialect.DebugWithContext(entsql.OpenDB(dialect.Postgres, d.SQL), func(_ context.Context, v ...any) {
		s := strings.Join(strings.Fields(toString(v)), " ")
		if strings.Contains(s, `FROM "events"`) {
			mu.Lock()
			reads = append(reads, s)
			mu.Unlock()
		}
	})
	client := ent.NewClient(ent.Driver(drv))
	h := live.NewHub(client, d.SQL, d.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	<-h.Ready()
	h.Wake()
	distinct := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, s := range reads {
			if q := queryOf.FindStringSubmatch(s); q != nil && !slices.Contains(out, q[1]) {
				out = append(out, q[1])
			}
		}
		return out
	}
	// The starting position, then a poll.
	for deadline := time.Now().Add(30 * time.Second); len(distinct()) < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	queries := distinct()
	if len(queries) < 2 {
		t.Fatalf("captured %d distinct reads of events, want the head and the poll: %q", len(queries), queries)
	}
	for _, q := range queries {
		// The values the hub would pass near the head of the table.
		args := make([]any, strings.Count(q, "$"))
		for i := range args {
			args[i] = 199990
		}
		if len(args) >= 3 {
			args[2] = 200001 // the horizon
		}
		var plan []byte
		if err := d.SQL.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+q, args...).Scan(&plan); err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		if !json.Valid(plan) {
			t.Fatalf("plan is not JSON: %s", plan)
		}
		t.Logf("checked: %s", q)
		text := string(plan)
		if strings.Contains(text, `"Seq Scan"`) || strings.Contains(text, `"Sort"`) || !strings.Contains(text, `"event_ord_id"`) {
			t.Errorf("the hub's read %s is not an ordered walk of event_ord_id:\n%s", q, plan)
		}
	}
}

var queryOf = regexp.MustCompile(`query=(.*) args=`)

func toString(v []any) string {
	var b strings.Builder
	for _, x := range v {
		if s, ok := x.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}
