package live

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/viewer"
)

// These tests drive feeds and the hub's bookkeeping directly; the reading
// of events from PostgreSQL is covered by the websocket tests in graph.

const guard = 5 * time.Second

var doctor1 = Key{Role: viewer.Doctor, ID: 1}

func testHub() *Hub {
	return NewHub(nil, nil, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func ev(id int) *ent.Event { return &ent.Event{ID: id, Ord: int64(id), DoctorID: 1} }

// newFeed does what stream does after the database work: register, then
// start at pos with the replay, then watch the context.
func newFeed(t *testing.T, ctx context.Context, h *Hub, pos Position, replay []*ent.Event, before ...*ent.Event) *feed[int] {
	t.Helper()
	f := &feed[int]{ctx: ctx, hub: h, key: doctor1, log: h.log,
		conv: func(_ context.Context, e *ent.Event) (int, bool, error) { return e.ID, true, nil }}
	if err := h.Subscribe(doctor1, f); err != nil {
		t.Fatal(err)
	}
	for _, e := range before {
		deliver(h, e)
	}
	f.start(pos, replay)
	f.watch()
	return f
}

// deliver hands e to its subscribers the way poll does.
func deliver(h *Hub, e *ent.Event) {
	h.mu.Lock()
	targets := h.targetsLocked(e)
	h.mu.Unlock()
	for _, s := range targets {
		s.Deliver(e)
	}
}

func drain(t *testing.T, c <-chan int) (got []int, closed bool) {
	t.Helper()
	for {
		select {
		case v, ok := <-c:
			if !ok {
				return got, true
			}
			got = append(got, v)
		case <-time.After(50 * time.Millisecond):
			return got, false
		}
	}
}

func waitClosed(t *testing.T, c <-chan int) {
	t.Helper()
	deadline := time.After(guard)
	for {
		select {
		case _, ok := <-c:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("subscription not ended")
		}
	}
}

func TestFeedReplaysThenSkipsWhatTheSnapshotSaw(t *testing.T) {
	h := testHub()
	// Events 3 and 4 reached the hub before the position was known; 3 was
	// already visible then (safe up to 3), 4 was not. 1 and 2 are the
	// replay the client asked for.
	f := newFeed(t, t.Context(), h, Position{Safe: Cursor{Ord: 3, ID: 3}, Seen: map[int]bool{}},
		[]*ent.Event{ev(1), ev(2)}, ev(3), ev(4))
	deliver(h, ev(3)) // a late duplicate of something visible: skipped
	deliver(h, ev(5))
	got, closed := drain(t, f.out)
	if closed || len(got) != 4 || got[0] != 1 || got[1] != 2 || got[2] != 4 || got[3] != 5 {
		t.Fatalf("got %v (closed %v), want [1 2 4 5]", got, closed)
	}
}

func TestFeedDropsSlowConsumer(t *testing.T) {
	h := testHub()
	f := newFeed(t, t.Context(), h, Position{Seen: map[int]bool{}}, nil)
	for i := range subBuffer {
		if !f.Deliver(ev(i + 1)) {
			t.Fatalf("dropped after %d events, buffer is %d", i, subBuffer)
		}
	}
	if f.Deliver(ev(subBuffer + 1)) {
		t.Fatal("kept a subscriber whose queue is full")
	}
	got, closed := drain(t, f.out)
	if len(got) != subBuffer || !closed {
		t.Fatalf("got %d events (closed %v), want the %d queued, then the end", len(got), closed, subBuffer)
	}
	if n, r := h.Subscribers(), h.Receiving(); n != 0 || r != 0 {
		t.Fatalf("%d subscriptions left in the hub, %d receiving", n, r)
	}
}

func TestFeedEndsWithContext(t *testing.T) {
	h := testHub()
	ctx, cancel := context.WithCancel(t.Context())
	f := newFeed(t, ctx, h, Position{Seen: map[int]bool{}}, nil)
	if r := h.Receiving(); r != 1 {
		t.Fatalf("a started subscription: %d receiving, want 1", r)
	}
	cancel()
	waitClosed(t, f.out)
	if n, r := h.Subscribers(), h.Receiving(); n != 0 || r != 0 {
		t.Fatalf("%d subscriptions left in the hub, %d receiving", n, r)
	}
	deliver(h, ev(1)) // nobody left; must not panic on the closed channel
	f.Deliver(ev(2))
}

func TestShutdownEndsFeedsAndRefusesNewOnes(t *testing.T) {
	h := testHub()
	f := newFeed(t, t.Context(), h, Position{Seen: map[int]bool{}}, nil)
	h.Shutdown()
	waitClosed(t, f.out)
	if err := h.Subscribe(doctor1, &feed[int]{}); err != ErrShutdown {
		t.Fatalf("subscribe after shutdown: %v", err)
	}
}

// An idle subscription costs no goroutine: with tens of thousands per
// replica, one each would cost more than everything else it holds.
func TestIdleFeedsHaveNoGoroutines(t *testing.T) {
	h := testHub()
	ctx := viewer.NewContext(t.Context(), viewer.Viewer{Role: viewer.Doctor, ID: 1, ExpiresAt: time.Now().Add(time.Hour)})
	before := runtime.NumGoroutine()
	feeds := make([]*feed[int], 1000)
	for i := range feeds {
		feeds[i] = newFeed(t, ctx, h, Position{Seen: map[int]bool{}}, nil)
	}
	if n := runtime.NumGoroutine() - before; n > 10 {
		t.Fatalf("%d goroutines for %d idle subscriptions", n, len(feeds))
	}
	deliver(h, ev(1))
	for _, f := range feeds {
		if v := <-f.out; v != 1 {
			t.Fatalf("got %d", v)
		}
	}
}
