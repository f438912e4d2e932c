package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// client posts GraphQL operations to the server under test. Unlike
// apptest.Env.Do it is safe in b.RunParallel goroutines (it returns errors
// instead of failing the benchmark from a goroutine it does not own), and
// it keeps enough idle connections for every concurrent caller, so the
// benchmark measures the server rather than TCP handshakes.
type client struct {
	url  string
	http *http.Client
}

func newClient(serverURL string, concurrency int) *client {
	tr := &http.Transport{MaxIdleConns: 2 * concurrency, MaxIdleConnsPerHost: 2 * concurrency, IdleConnTimeout: time.Minute}
	return &client{url: serverURL + "/graphql", http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// body encodes an operation once, outside the timed loop.
func body(query string, vars map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return b
}

// gqlError is the part of a GraphQL error the benchmarks look at.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"extensions"`
}

// post sends one operation and returns the raw response body.
func (c *client) post(token string, payload []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return raw, fmt.Errorf("HTTP %d: %s", res.StatusCode, raw)
	}
	return raw, nil
}

// goroutinesPerProc returns the b.SetParallelism argument that gives at
// least want goroutines in b.RunParallel, whatever GOMAXPROCS is.
func goroutinesPerProc(want int) int {
	p := runtime.GOMAXPROCS(0)
	return (want + p - 1) / p
}

// latencies gathers per-operation durations from parallel goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// add merges one goroutine's durations, once, when it is done.
func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

// percentile is the nearest-rank percentile (0 < p <= 100); the slice
// must be sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// report adds p50-ms, p99-ms and ops/s to the benchmark's ns/op. Call it
// after b.StopTimer, so b.Elapsed is the timed wall-clock span.
func (l *latencies) report(b *testing.B) (p50, p99 time.Duration, opsPerSec float64) {
	b.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) != b.N {
		b.Fatalf("collected %d latencies for b.N = %d", len(l.d), b.N)
	}
	slices.Sort(l.d)
	p50, p99 = percentile(l.d, 50), percentile(l.d, 99)
	opsPerSec = float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(opsPerSec, "ops/s")
	return p50, p99, opsPerSec
}

// summary is the p50 and p99 of a subset of the operations.
func (l *latencies) summary() (p50, p99 time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.d)
	return percentile(l.d, 50), percentile(l.d, 99)
}
