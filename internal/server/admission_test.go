package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// blocking is a GraphQL handler that holds every request until released.
type blocking struct {
	started chan struct{}
	release chan struct{}
	ran     atomic.Int64
}

func (b *blocking) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.ran.Add(1)
	b.started <- struct{}{}
	<-b.release
	_, _ = w.Write([]byte(`{"data":{}}`))
}

func post(h http.Handler, ctx context.Context) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{__typename}"}`)).WithContext(ctx)
	h.ServeHTTP(w, r)
	return w
}

func TestAdmissionRefusesTheExcessAtOnce(t *testing.T) {
	b := &blocking{started: make(chan struct{}, 8), release: make(chan struct{})}
	h := admit(Admission{MaxInFlight: 1, MaxQueued: 1, QueueWait: time.Minute, RetryAfter: 1500 * time.Millisecond}, b)
	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { first <- post(h, context.Background()) }()
	<-b.started
	queued := make(chan *httptest.ResponseRecorder, 1)
	go func() { queued <- post(h, context.Background()) }()
	// Let the second one take the queue's only place.
	deadline := time.Now().Add(5 * time.Second)
	for len(h.(*admitter).queue) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the second request never queued")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	w := post(h, context.Background())
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the refusal took %v; it must not wait", took)
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("HTTP %d, Retry-After %q; want 503 and 2", w.Code, w.Header().Get("Retry-After"))
	}
	var res struct {
		Errors []struct{ Extensions map[string]any }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || len(res.Errors) != 1 ||
		res.Errors[0].Extensions["code"] != "RATE_LIMITED" || res.Errors[0].Extensions["retryAfterSeconds"] != float64(2) {
		t.Fatalf("body %s (%v)", w.Body.Bytes(), err)
	}
	// Releasing the first lets the queued one run, and both succeed.
	b.release <- struct{}{}
	if w := <-first; w.Code != http.StatusOK {
		t.Fatalf("first: HTTP %d", w.Code)
	}
	<-b.started
	b.release <- struct{}{}
	if w := <-queued; w.Code != http.StatusOK {
		t.Fatalf("queued: HTTP %d", w.Code)
	}
	if n := b.ran.Load(); n != 2 {
		t.Fatalf("%d requests ran, want 2", n)
	}
}

func TestAdmissionQueueWaitIsBounded(t *testing.T) {
	b := &blocking{started: make(chan struct{}, 8), release: make(chan struct{})}
	h := admit(Admission{MaxInFlight: 1, MaxQueued: 4, QueueWait: 50 * time.Millisecond, RetryAfter: time.Second}, b)
	done := make(chan struct{})
	go func() { post(h, context.Background()); close(done) }()
	<-b.started
	start := time.Now()
	w := post(h, context.Background())
	if w.Code != http.StatusServiceUnavailable || time.Since(start) < 50*time.Millisecond || time.Since(start) > 5*time.Second {
		t.Fatalf("HTTP %d after %v; want 503 after the queue wait", w.Code, time.Since(start))
	}
	// A queued client that goes away never runs.
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan struct{})
	go func() { post(h, ctx); close(gone) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	<-gone
	b.release <- struct{}{}
	<-done
	if n := b.ran.Load(); n != 1 {
		t.Fatalf("%d requests ran, want only the first", n)
	}
}
