package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// TestSearchSQLEndsWhenTheClientGoes holds a table the search reads
// locked, sends the search from a client that gives up, and expects the
// statement it was waiting in to be cancelled, not left running for an
// answer nobody reads: the page itself (doctors) and the batched
// nextFreeSlot (slots).
func TestSearchSQLEndsWhenTheClientGoes(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	env.Doctor("Dr. Waiting", "Cardiology", -23.55, -46.63)
	const op = `{ doctors(near: {lat: -23.55, lng: -46.63}, withinKm: 5) { edges { node { name nextFreeSlot { id } } } } }`
	for _, table := range []string{"doctors", "slots"} {
		t.Run(table, func(t *testing.T) {
			ctx := context.Background()
			lock, err := env.DB.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Rollback() //nolint:errcheck // the lock ends with the test
			if _, err := lock.ExecContext(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(map[string]any{"query": op})
			cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(cctx, http.MethodPost, env.Server.URL+"/graphql", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				t.Fatalf("the search answered HTTP %d while %s was locked", res.StatusCode, table)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				var waiting int
				if err := env.DB.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
					AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				if waiting == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d statements still wait on %s 5 s after their client left", waiting, table)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
