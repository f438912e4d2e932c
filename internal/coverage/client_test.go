package coverage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// operator is a fake coverage API whose behaviour a test switches.
type operator struct {
	mu    sync.Mutex
	mode  string // "covered", "not-covered", "500", "hang", "400", "garbage"
	hits  atomic.Int64
	last  Request
	block chan struct{}
}

func newOperator(t *testing.T, mode string) (*operator, *httptest.Server) {
	o := &operator{mode: mode, block: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		var req Request
		_ = json.NewDecoder(r.Body).Decode(&req)
		o.mu.Lock()
		o.last = req
		mode := o.mode
		o.mu.Unlock()
		switch mode {
		case "covered":
			_ = json.NewEncoder(w).Encode(Result{Covered: true, Authorization: "AUT-1"})
		case "not-covered":
			_ = json.NewEncoder(w).Encode(Result{Covered: false, Reason: "specialty not in plan"})
		case "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "400":
			http.Error(w, "unknown operator", http.StatusBadRequest)
		case "garbage":
			_, _ = w.Write([]byte("<html>"))
		case "hang":
			select {
			case <-o.block:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(func() { close(o.block); srv.Close() })
	return o, srv
}

func (o *operator) set(mode string) { o.mu.Lock(); o.mode = mode; o.mu.Unlock() }

func checker(url string, b *Breaker) *HTTPChecker {
	return &HTTPChecker{BaseURL: url, Client: &http.Client{}, Timeout: 100 * time.Millisecond,
		Attempts: 3, Backoff: 10 * time.Millisecond, Breaker: b}
}

var req = Request{Operator: "unimed", CardNumber: "0123456789012345", Specialty: "Cardiology", AmountCents: 25000}

func TestCheckerAnswers(t *testing.T) {
	op, srv := newOperator(t, "covered")
	c := checker(srv.URL, nil)
	res, err := c.Check(context.Background(), req)
	if err != nil || !res.Covered || res.Authorization != "AUT-1" {
		t.Fatalf("covered: %+v %v", res, err)
	}
	if op.last.CardNumber != req.CardNumber || op.last.Operator != "unimed" {
		t.Fatalf("operator got %+v", op.last)
	}
	op.set("not-covered")
	res, err = c.Check(context.Background(), req)
	if err != nil || res.Covered || res.Reason != "specialty not in plan" {
		t.Fatalf("not covered: %+v %v", res, err)
	}
	if n := op.hits.Load(); n != 2 {
		t.Fatalf("%d requests for two answers", n)
	}
}

func TestCheckerRetriesServerErrorsThenGivesUp(t *testing.T) {
	for _, mode := range []string{"500", "garbage"} {
		t.Run(mode, func(t *testing.T) {
			op, srv := newOperator(t, mode)
			c := checker(srv.URL, nil)
			var slept []time.Duration
			c.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
			_, err := c.Check(context.Background(), req)
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if n := op.hits.Load(); n != 3 {
				t.Fatalf("%d attempts, want 3", n)
			}
			// Backoff doubles: 10ms then 20ms, each jittered within [d/2, d].
			if len(slept) != 2 || slept[0] < 5*time.Millisecond || slept[0] > 10*time.Millisecond ||
				slept[1] < 10*time.Millisecond || slept[1] > 20*time.Millisecond {
				t.Fatalf("backoff %v", slept)
			}
		})
	}
}

func TestCheckerDoesNotRetryAClientError(t *testing.T) {
	op, srv := newOperator(t, "400")
	_, err := checker(srv.URL, nil).Check(context.Background(), req)
	if !errors.Is(err, ErrUnavailable) || op.hits.Load() != 1 {
		t.Fatalf("err %v after %d requests, want one request", err, op.hits.Load())
	}
}

func TestCheckerTimesOutAHangingOperator(t *testing.T) {
	op, srv := newOperator(t, "hang")
	c := checker(srv.URL, nil)
	start := time.Now()
	_, err := c.Check(context.Background(), req)
	took := time.Since(start)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	// Three attempts of 100 ms and two short pauses: well under a second,
	// however long the operator would hang.
	if took > time.Second || op.hits.Load() != 3 {
		t.Fatalf("took %s for %d attempts", took, op.hits.Load())
	}
	// The caller's own deadline wins over the retry budget.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c.Check(ctx, req); !errors.Is(err, ErrUnavailable) || time.Since(start) > 400*time.Millisecond {
		t.Fatalf("with a 150ms deadline: %v after %s", err, time.Since(start))
	}
}

func TestBreakerOpensAfterNFailuresAndShortCircuits(t *testing.T) {
	op, srv := newOperator(t, "500")
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	b := &Breaker{Failures: 2, OpenFor: 30 * time.Second, Now: func() time.Time { return now }}
	c := checker(srv.URL, b)
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	for i := 0; i < 2; i++ {
		if _, err := c.Check(context.Background(), req); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("check %d: %v", i, err)
		}
	}
	if b.State() != "open" || op.hits.Load() != 6 {
		t.Fatalf("state %s after %d requests, want open after 6", b.State(), op.hits.Load())
	}
	// Open: no request at all, at once.
	start := time.Now()
	if _, err := c.Check(context.Background(), req); !errors.Is(err, ErrOpen) || time.Since(start) > 10*time.Millisecond {
		t.Fatalf("open breaker: %v", err)
	}
	if op.hits.Load() != 6 {
		t.Fatalf("a request went out while open")
	}
	// After OpenFor one probe goes out; it fails, so the breaker reopens.
	now = now.Add(31 * time.Second)
	if b.State() != "half-open" {
		t.Fatalf("state %s, want half-open", b.State())
	}
	if _, err := c.Check(context.Background(), req); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("probe: %v", err)
	}
	if b.State() != "open" {
		t.Fatalf("a failed probe left the breaker %s", b.State())
	}
	// The operator recovers: the next probe closes the breaker.
	op.set("covered")
	now = now.Add(31 * time.Second)
	if res, err := c.Check(context.Background(), req); err != nil || !res.Covered {
		t.Fatalf("probe after recovery: %+v %v", res, err)
	}
	if b.State() != "closed" {
		t.Fatalf("state %s after a good probe", b.State())
	}
}

func TestBreakerLetsOneProbeThrough(t *testing.T) {
	now := time.Now()
	b := &Breaker{Failures: 1, OpenFor: time.Second, Now: func() time.Time { return now }}
	if err := b.Allow(); err != nil {
		t.Fatal(err)
	}
	b.Done(false)
	if err := b.Allow(); !errors.Is(err, ErrOpen) {
		t.Fatalf("open: %v", err)
	}
	now = now.Add(2 * time.Second)
	if err := b.Allow(); err != nil {
		t.Fatalf("first probe refused: %v", err)
	}
	if err := b.Allow(); !errors.Is(err, ErrOpen) {
		t.Fatalf("second concurrent probe allowed")
	}
	b.Done(true)
	if err := b.Allow(); err != nil || b.State() != "closed" {
		t.Fatalf("after a good probe: %v %s", err, b.State())
	}
}
