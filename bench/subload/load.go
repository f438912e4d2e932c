package main

// The mixed load (-mixed): patients searching and booking over HTTP at
// fixed offered rates, and doctors accepting each booking, while the
// subscribers are open. It runs on goroutines of the orchestrator: the
// client processes are busy reading their sockets, and the 2 cores are
// shared, so the generator does as little as it can per request.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/healthmed/healthmed/bench/workload"
)

const acceptOp = `mutation($id: ID!) { acceptAppointment(id: $id) { id status } }`

// opStats collects one kind of request: latencies of the answered ones
// (from when each was due, so a slow answer also delays the figures of
// those queued behind it), the others by error code.
type opStats struct {
	mu   sync.Mutex
	sent int
	us   []int64
	errs map[string]int
}

func (s *opStats) note(took time.Duration, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	if code == "" {
		s.us = append(s.us, took.Microseconds())
		return
	}
	if s.errs == nil {
		s.errs = map[string]int{}
	}
	s.errs[code]++
}

// opSummary is what the report shows of one kind of request.
type opSummary struct {
	Sent     int            `json:"sent"`
	Answered int            `json:"answered"`
	Rate     float64        `json:"rate"` // answered per second of load
	Latency  dist           `json:"latency"`
	Errors   map[string]int `json:"errors,omitempty"`
}

func (s *opStats) summary(over time.Duration) opSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	return opSummary{Sent: s.sent, Answered: len(s.us), Rate: float64(len(s.us)) / over.Seconds(),
		Latency: summarize(s.us), Errors: s.errs}
}

func (s opSummary) String() string {
	out := fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s; %d sent, %d answered (%.1f/s)",
		ms(s.Latency.P50), ms(s.Latency.P95), ms(s.Latency.P99), ms(s.Latency.Max), s.Sent, s.Answered, s.Rate)
	if len(s.Errors) > 0 {
		codes := make([]string, 0, len(s.Errors))
		for c := range s.Errors {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		out += "; errors:"
		for _, c := range codes {
			out += fmt.Sprintf(" %s %d", c, s.Errors[c])
		}
	}
	return out
}

// poster sends GraphQL over HTTP with the load's patience.
type poster struct{ http *http.Client }

func newPoster(patience time.Duration) *poster {
	tr := &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	return &poster{http: &http.Client{Transport: tr, Timeout: patience}}
}

// post returns the answer's data, or the error's contract code (or what
// went wrong when there is none: timeout, transport, HTTP status).
func (p *poster) post(ctx context.Context, addr, token string, payload []byte) (json.RawMessage, string) {
	status, _, b, err := postGraphQL(ctx, p.http, addr, token, payload)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
			return nil, "timeout"
		}
		if ctx.Err() != nil {
			return nil, "cancelled"
		}
		return nil, "transport"
	}
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	switch {
	case json.Unmarshal(b, &out) != nil:
		return nil, "HTTP " + strconv.Itoa(status)
	case len(out.Errors) > 0 && out.Errors[0].Extensions.Code != "":
		return nil, out.Errors[0].Extensions.Code
	case len(out.Errors) > 0:
		return nil, "no code"
	case status != http.StatusOK:
		return nil, "HTTP " + strconv.Itoa(status)
	}
	return out.Data, ""
}

// appointmentID reads the id of the appointment a booking or an
// acceptance answered with.
func appointmentID(data json.RawMessage, field string) string {
	var d map[string]struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(data, &d)
	return d[field].ID
}

// acceptSent is when and where an appointment's acceptance was sent.
type acceptSent struct {
	T0      int64 // unix ns, just before the request
	Replica int
	OK      bool
}

// mixedLoad is one run of the load.
type mixedLoad struct {
	m     mixedOptions
	addrs []string
	seed  *mixedSeed
	p     *poster

	search, book, accept opStats
	searchPayload        []byte
	outOfSlots           atomic.Int64

	mu   sync.Mutex
	sent map[string]acceptSent // appointment id ->

	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup // schedulers, requests in flight, acceptances due
}

func newMixedLoad(m mixedOptions, addrs []string, seed *mixedSeed) *mixedLoad {
	payload, _ := json.Marshal(map[string]any{"query": workload.SearchNextFreeOp, "variables": workload.SearchVars()})
	return &mixedLoad{m: m, addrs: addrs, seed: seed, p: newPoster(m.patience), searchPayload: payload,
		sent: map[string]acceptSent{}, stop: make(chan struct{})}
}

// run starts the searches and the bookings; stopLoad ends them.
func (l *mixedLoad) run(ctx context.Context) {
	l.start = time.Now()
	l.wg.Add(2)
	go l.every(ctx, l.m.searchRate, l.searchOne)
	go l.every(ctx, l.m.bookRate, l.bookOne)
}

// stopLoad stops sending and waits for the answers and for the
// acceptances still due; it returns how long requests were sent for.
func (l *mixedLoad) stopLoad() time.Duration {
	close(l.stop)
	elapsed := time.Since(l.start)
	l.wg.Wait()
	return elapsed
}

// every fires i = 0, 1, ... at rate per second from the start whatever
// the answers (an open loop: the patients do not wait for each other).
func (l *mixedLoad) every(ctx context.Context, rate int, fire func(ctx context.Context, i int, due time.Time)) {
	defer l.wg.Done()
	if rate <= 0 {
		return
	}
	interval := time.Second / time.Duration(rate)
	t := time.NewTimer(0)
	defer t.Stop()
	for i := 0; ; i++ {
		due := l.start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			t.Reset(w)
			select {
			case <-l.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		select {
		case <-l.stop:
			return
		default:
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			fire(ctx, i, due)
		}()
	}
}

func (l *mixedLoad) searchOne(ctx context.Context, i int, due time.Time) {
	tok := l.seed.patientTokens[i%len(l.seed.patientTokens)]
	_, code := l.p.post(ctx, l.addrs[i%2], tok, l.searchPayload)
	l.search.note(time.Since(due), code)
}

// bookOne books the next slot of the grid past the warm-up's, and has
// its doctor accept it acceptAfter later.
func (l *mixedLoad) bookOne(ctx context.Context, i int, due time.Time) {
	g := len(l.seed.patientTokens) + i
	if g >= len(l.seed.grid) {
		l.outOfSlots.Add(1)
		return
	}
	data, code := l.p.post(ctx, l.addrs[i%2], l.seed.patientToken(g), l.seed.bookPayload(g, ""))
	l.book.note(time.Since(due), code)
	if code != "" {
		return
	}
	id := appointmentID(data, "bookAppointment")
	if id == "" {
		return
	}
	l.wg.Add(1)
	time.AfterFunc(l.m.acceptAfter, func() {
		defer l.wg.Done()
		l.acceptOne(ctx, id, l.seed.grid[g].doctorToken)
	})
}

func (l *mixedLoad) acceptOne(ctx context.Context, id, doctorToken string) {
	// Drawn, not alternated: the patients' replicas follow the bookings'
	// order too, and an alternation could pair every acceptance with the
	// same side.
	replica := rand.IntN(2)
	payload, _ := json.Marshal(map[string]any{"query": acceptOp, "variables": map[string]any{"id": id}})
	t0 := time.Now()
	// Noted before sending: the patient may read the news before the
	// doctor reads the answer.
	l.mu.Lock()
	l.sent[id] = acceptSent{T0: t0.UnixNano(), Replica: replica}
	l.mu.Unlock()
	_, code := l.p.post(ctx, l.addrs[replica], doctorToken, payload)
	l.accept.note(time.Since(t0), code)
	if code == "" {
		l.mu.Lock()
		s := l.sent[id]
		s.OK = true
		l.sent[id] = s
		l.mu.Unlock()
	}
}
