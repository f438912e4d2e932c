package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/internal/gqlerr"
)

// Admission bounds the GraphQL requests a replica works on at once.
// MaxInFlight run; up to MaxQueued more wait at most QueueWait for a
// place; the rest are refused at once with RATE_LIMITED (503 and
// Retry-After), before their body is read. Past saturation every request
// let in slows all the others down until clients give up on answers
// still being computed; refusing the excess keeps the admitted ones fast.
// Websocket upgrades are not counted: a subscription is long-lived and
// its events are bounded elsewhere.
type Admission struct {
	MaxInFlight int
	MaxQueued   int
	QueueWait   time.Duration
	RetryAfter  time.Duration
}

// admitter holds one replica's places and queue.
type admitter struct {
	cfg    Admission
	run    chan struct{}
	queue  chan struct{}
	next   http.Handler
	after  string
	afterS int
}

func admit(cfg Admission, next http.Handler) http.Handler {
	if cfg.MaxInFlight <= 0 {
		return next
	}
	secs := max(1, int(math.Ceil(cfg.RetryAfter.Seconds())))
	return &admitter{cfg: cfg, run: make(chan struct{}, cfg.MaxInFlight), queue: make(chan struct{}, max(cfg.MaxQueued, 0)),
		next: next, after: strconv.Itoa(secs), afterS: secs}
}

func (a *admitter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions || strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		a.next.ServeHTTP(w, r)
		return
	}
	select {
	case a.run <- struct{}{}:
	default:
		if !a.wait(w, r) {
			return
		}
	}
	defer func() { <-a.run }()
	a.next.ServeHTTP(w, r)
}

// wait queues r for a place; it reports whether r got one (otherwise it
// has been answered, or its client has gone).
func (a *admitter) wait(w http.ResponseWriter, r *http.Request) bool {
	select {
	case a.queue <- struct{}{}:
	default:
		a.refuse(w, r)
		return false
	}
	defer func() { <-a.queue }()
	t := time.NewTimer(a.cfg.QueueWait)
	defer t.Stop()
	select {
	case a.run <- struct{}{}:
		return true
	case <-t.C:
		a.refuse(w, r)
	case <-r.Context().Done():
		// The client has gone: nobody reads an answer.
	}
	return false
}

func (a *admitter) refuse(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Retry-After", a.after)
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(&graphql.Response{Errors: gqlerror.List{{
		Message: "the server is busy; retry later",
		Extensions: map[string]any{"code": gqlerr.RateLimited, "requestId": RequestID(r.Context()),
			"retryAfterSeconds": a.afterS},
	}}})
}
