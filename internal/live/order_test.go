package live_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/live"
	"github.com/healthmed/healthmed/internal/testdb"
	"github.com/healthmed/healthmed/internal/viewer"
)

// recorder is a subscriber that keeps every event it is handed.
type recorder struct {
	mu  sync.Mutex
	ids []int
	got chan int
}

func newRecorder() *recorder { return &recorder{got: make(chan int, 100000)} }

func (r *recorder) Deliver(e *ent.Event) bool {
	r.mu.Lock()
	r.ids = append(r.ids, e.ID)
	r.mu.Unlock()
	r.got <- e.ID
	return true
}

func (r *recorder) Stop(error) {}

func (r *recorder) all() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.ids...)
}

// next waits for the next event, failing the test after limit.
func (r *recorder) next(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case id := <-r.got:
		return id, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("no event within %s", limit)
		return 0, 0
	}
}

func (r *recorder) none(t *testing.T, wait time.Duration) {
	t.Helper()
	select {
	case id := <-r.got:
		t.Fatalf("unexpected event %d", id)
	case <-time.After(wait):
	}
}

var doctorOne = live.Key{Role: viewer.Doctor, ID: 1}

// startHub runs a hub of the test's own on d.
func startHub(t *testing.T, d *testdb.DB, maxHold time.Duration) (*live.Hub, *recorder) {
	t.Helper()
	h := live.NewHub(d.Client, d.SQL, d.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.MaxHold = maxHold
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-h.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub not ready")
	}
	r := newRecorder()
	if err := h.Subscribe(doctorOne, r); err != nil {
		t.Fatal(err)
	}
	return h, r
}

type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func insertEvent(t *testing.T, db execer, doctor int) int {
	t.Helper()
	var id int
	if err := db.QueryRowContext(context.Background(), `INSERT INTO events (created_at, kind, doctor_id)
		VALUES (now(), 'SLOT_CREATED', $1) RETURNING id`, doctor).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// A transaction whose commit stalls after its events were numbered holds
// the events numbered after it back for MaxHold at most; its own events
// are delivered once when it ends, after those.
func TestStalledCommitHoldsBackOnlyUntilTheBound(t *testing.T) {
	d := testdb.New(t)
	const maxHold = 500 * time.Millisecond
	h, r := startHub(t, d, maxHold)

	stalled, err := d.SQL.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Rollback() //nolint:errcheck
	late := insertEvent(t, stalled, 1)
	if _, err := stalled.Exec(`SET CONSTRAINTS ALL IMMEDIATE`); err != nil { // numbers it now
		t.Fatal(err)
	}
	b := insertEvent(t, d.SQL, 1)
	h.Wake()
	id, took := r.next(t, 5*time.Second)
	if id != b || took < maxHold/2 || took > maxHold+time.Second {
		t.Fatalf("got event %d after %s, want %d after about %s", id, took, b, maxHold)
	}
	c := insertEvent(t, d.SQL, 1)
	h.Wake()
	if id, took := r.next(t, 5*time.Second); id != c || took > time.Second {
		t.Fatalf("got event %d after %s, want %d at once: the stalled one no longer holds anything", id, took, c)
	}
	time.Sleep(maxHold)
	if err := stalled.Commit(); err != nil {
		t.Fatal(err)
	}
	h.Wake()
	if id, took := r.next(t, 5*time.Second); id != late || took > time.Second {
		t.Fatalf("got event %d after %s, want the late committer's %d", id, took, late)
	}
	r.none(t, 1500*time.Millisecond)
}

// Many writers committing in parallel, after random delays, some stalling
// past the bound, some rolling back: the subscriber gets every committed
// event exactly once, and nothing else.
func TestConcurrentWritersEveryEventOnce(t *testing.T) {
	d := testdb.New(t)
	h, r := startHub(t, d, 100*time.Millisecond)
	var mu sync.Mutex
	committed := map[int]bool{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range 25 {
				tx, err := d.SQL.BeginTx(context.Background(), nil)
				if err != nil {
					t.Error(err)
					return
				}
				var ids []int
				for range 1 + rng.IntN(3) {
					var id int
					if err := tx.QueryRow(`INSERT INTO events (created_at, kind, doctor_id)
						VALUES (now(), 'SLOT_CREATED', 1) RETURNING id`).Scan(&id); err != nil {
						t.Error(err)
						tx.Rollback() //nolint:errcheck
						return
					}
					ids = append(ids, id)
				}
				if rng.IntN(4) == 0 {
					if _, err := tx.Exec(`SET CONSTRAINTS ALL IMMEDIATE`); err != nil {
						t.Error(err)
					}
					time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
				} else {
					time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
				}
				if rng.IntN(10) == 0 {
					tx.Rollback() //nolint:errcheck
					continue
				}
				if err := tx.Commit(); err != nil {
					t.Error(err)
					continue
				}
				mu.Lock()
				for _, id := range ids {
					committed[id] = true
				}
				mu.Unlock()
				h.Wake()
			}
		}()
	}
	wg.Wait()
	for deadline := time.Now().Add(10 * time.Second); len(r.all()) < len(committed) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // anything delivered twice, or rolled back, shows up by now
	seen := map[int]bool{}
	for _, id := range r.all() {
		if seen[id] {
			t.Errorf("event %d delivered twice", id)
		}
		if !committed[id] {
			t.Errorf("event %d delivered but never committed", id)
		}
		seen[id] = true
	}
	for id := range committed {
		if !seen[id] {
			t.Errorf("committed event %d never delivered", id)
		}
	}
	t.Logf("%d events committed, %d delivered", len(committed), len(seen))
}

// The events table keeps what resumption needs and no more.
func TestPruneDeletesEventsOlderThanTheReplayWindow(t *testing.T) {
	d := testdb.New(t)
	h, _ := startHub(t, d, 0)
	if _, err := d.SQL.Exec(`INSERT INTO events (created_at, kind, doctor_id)
		SELECT now() - interval '25 hours', 'SLOT_CREATED', 2 FROM generate_series(1, 6000)`); err != nil {
		t.Fatal(err)
	}
	keep := insertEvent(t, d.SQL, 2)
	n, err := h.Prune(t.Context(), time.Now().Add(-live.ReplayWindow))
	if err != nil || n != 6000 {
		t.Fatalf("pruned %d (%v), want 6000", n, err)
	}
	var left []int
	rows, err := d.SQL.Query(`SELECT id FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		left = append(left, id)
	}
	if len(left) != 1 || left[0] != keep {
		t.Fatalf("left %v, want only %d", left, keep)
	}
	if n, err := h.Prune(t.Context(), time.Now().Add(-live.ReplayWindow)); err != nil || n != 0 {
		t.Fatalf("second prune: %d %v", n, err)
	}
}
