package live_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/testdb"
)

// holdFor is how long the unrelated transactions below stay open; the
// issue's figure is for 60 s (HEALTHMED_HOLD_SECONDS=60).
func holdFor(t *testing.T) time.Duration {
	if s, err := strconv.Atoi(os.Getenv("HEALTHMED_HOLD_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 4 * time.Second
}

// otherDatabase creates a throwaway database in the same cluster, as
// another application of a shared managed PostgreSQL would have.
func otherDatabase(t *testing.T) *sql.DB {
	t.Helper()
	base := testdb.AdminURL(t)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "hmt_other_" + strings.ToLower(rand.Text()[:10])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	other, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		other.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) //nolint:errcheck
	})
	return other
}

// openWrite begins a transaction that has written (so it has a
// transaction id) and holds it until the test ends or release is called.
func openWrite(t *testing.T, db *sql.DB, stmts ...string) (release func()) {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			tx.Rollback() //nolint:errcheck
			t.Fatal(err)
		}
	}
	done := false
	release = func() {
		if !done {
			done = true
			tx.Rollback() //nolint:errcheck
		}
	}
	t.Cleanup(release)
	return release
}

func createSlot(t *testing.T, env *apptest.Env, doc string, i int) {
	t.Helper()
	start := time.Now().UTC().AddDate(0, 0, 5).Truncate(time.Hour).Add(time.Duration(i) * time.Hour)
	var out struct{ CreateSlots []struct{ ID string } }
	env.Do(doc, `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`, map[string]any{"in": []any{map[string]any{
		"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(30 * time.Minute).Format(time.RFC3339)}}}).Decode(t, &out)
}

// nextWithin waits for the subscription's next event and fails the test
// when it takes longer than limit.
func nextWithin(t *testing.T, w *apptest.WS, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	m, err := w.Next(limit + 30*time.Second)
	took := time.Since(start)
	if err != nil || m.Type != "next" {
		t.Fatalf("want an event, got %+v %v after %s", m, err, took)
	}
	if took > limit {
		t.Fatalf("event delivered after %s, want under %s", took, limit)
	}
	return took
}

// A write transaction held open in another database of the cluster, one
// in ours that writes no event, and even one in ours that wrote an event
// but has not committed yet, must not hold any event back: events are
// numbered as their transaction commits, and only a transaction that is
// committing events may hold back the ones numbered after it.
func TestUnrelatedTransactionsHoldNoEventBack(t *testing.T) {
	env := apptest.New(t)
	other := otherDatabase(t)
	doc, _ := env.Doctor("Dr. Unheld", "Cardiology", -23.5, -46.6)
	w := env.Connect(t, apptest.TransportWS, doc)
	w.Subscribe("a", `subscription { agendaUpdated { id kind } }`, nil)
	time.Sleep(100 * time.Millisecond) // let the subscription register

	hold := holdFor(t)
	releaseOther := openWrite(t, other, `CREATE TABLE batch (x int)`, `INSERT INTO batch SELECT generate_series(1, 1000)`)
	releaseOurs := openWrite(t, env.DB.SQL, `SELECT pg_current_xact_id()`,
		`CREATE TEMP TABLE report AS SELECT id FROM doctors`)
	releaseWriter := openWrite(t, env.DB.SQL,
		`INSERT INTO events (created_at, kind, doctor_id) VALUES (now(), 'SLOT_CREATED', 0)`)
	end := time.Now().Add(hold)
	var took []time.Duration
	for i := 0; time.Now().Before(end); i++ {
		createSlot(t, env, doc, i)
		took = append(took, nextWithin(t, w, time.Second))
		time.Sleep(200 * time.Millisecond)
	}
	releaseOther()
	releaseOurs()
	releaseWriter()
	slices.Sort(took)
	t.Logf("held %s in another database and ours: %d events, median %s, slowest %s",
		hold, len(took), took[len(took)/2], took[len(took)-1])
}

// A client resuming from an event that was pruned with the events older
// than the replay window gets the window again, not an error.
func TestResumingFromAPrunedEventAsksForARefetch(t *testing.T) {
	env := apptest.New(t)
	doc, _ := env.Doctor("Dr. Pruned", "Cardiology", -23.5, -46.6)
	w := env.Connect(t, apptest.TransportWS, doc)
	w.Subscribe("a", `subscription { agendaUpdated { id } }`, nil)
	time.Sleep(100 * time.Millisecond) // let the subscription register
	var ids []string
	for i := range 2 {
		createSlot(t, env, doc, i)
		var m struct{ AgendaUpdated struct{ ID string } }
		w.NextData("a", &m)
		ids = append(ids, m.AgendaUpdated.ID)
	}
	if _, err := env.DB.SQL.Exec(`UPDATE events SET created_at = now() - interval '25 hours' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	if n, err := env.App.Hub.Prune(t.Context(), time.Now().Add(-live.ReplayWindow)); err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	r := env.Connect(t, apptest.TransportWS, doc)
	r.Subscribe("b", `subscription($after: ID) { agendaUpdated(after: $after) { id } }`, map[string]any{"after": ids[0]})
	// What came between the pruned event and the window's start is gone
	// too: only a refetch gives the client a whole state.
	msg, err := r.Next(5 * time.Second)
	if err != nil || (msg.Type != "error" && msg.Type != "next") || !strings.Contains(string(msg.Payload), `"reason":"REFETCH_REQUIRED"`) {
		t.Fatalf("resume from a pruned event: %+v %s (%v), want a REFETCH_REQUIRED error", msg, msg.Payload, err)
	}
}
