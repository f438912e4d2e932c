package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/internal/apptest"
)

const (
	// benchDoctors is the size of the search benchmark's table.
	benchDoctors = 100_000
	// searchClients is how many clients search at once in the loaded
	// run; a first run has one per CPU (GOMAXPROCS), the fewest
	// b.RunParallel can have.
	searchClients = 8
)

const searchNearOp = `query($near: GeoPointInput, $km: Float, $first: Int) {
  doctors(near: $near, withinKm: $km, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name specialty rating distanceKm } }
  }
}`

var searchNearVars = map[string]any{
	"near":  map[string]any{"lat": workload.SaoPauloLat, "lng": workload.SaoPauloLng},
	"km":    10.0,
	"first": 20,
}

// BenchmarkSearchNearCityCentre runs the first page of "doctors within
// 10 km of São Paulo's centre" (20 per page, with totalCount) through the
// HTTP handler on 100,000 seeded doctors: once with one client per CPU,
// then with searchClients clients at once.
//
// The server and the seed are set up once, in the parent benchmark; the
// sub-benchmarks are the ones the framework runs with growing b.N.
func BenchmarkSearchNearCityCentre(b *testing.B) {
	env := apptest.New(b, apptest.Unthrottled())
	copyTime, analyzeTime, err := workload.SeedDoctors(context.Background(), env.DB.SQL, benchDoctors, 1)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	// RunParallel runs a multiple of GOMAXPROCS goroutines.
	procs := runtime.GOMAXPROCS(0)
	var levels []int
	for _, want := range []int{1, searchClients} {
		if n := goroutinesPerProc(want) * procs; !slices.Contains(levels, n) {
			levels = append(levels, n)
		}
	}
	c := newClient(env.Server.URL, levels[len(levels)-1])
	defer c.close()
	payload := body(searchNearOp, searchNearVars)
	total := checkSearchPage(b, c, payload)
	// A parent benchmark's log is not printed unless it fails, so the
	// first sub-benchmark run tells the setup.
	var setupLog sync.Once
	for _, clients := range levels {
		perProc := clients / procs
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			setupLog.Do(func() {
				b.Logf("%s; %d of them within 10 km of the centre; pages of 20",
					workload.DescribeSeed(benchDoctors, copyTime, analyzeTime), total)
			})
			var (
				lat      latencies
				failures atomic.Int64
				firstErr sync.Once
				errText  string
			)
			b.SetParallelism(perProc)
			// Allocations per search, the client's included: the
			// collector's share of a search replica's CPU follows them.
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				local := make([]time.Duration, 0, 1024)
				for pb.Next() {
					start := time.Now()
					raw, err := c.post("", payload)
					local = append(local, time.Since(start))
					if err == nil && bytes.Contains(raw, []byte(`"errors"`)) {
						err = fmt.Errorf("GraphQL errors: %s", raw)
					}
					if err != nil {
						failures.Add(1)
						firstErr.Do(func() { errText = err.Error() })
					}
				}
				lat.add(local)
			})
			b.StopTimer()
			if n := failures.Load(); n > 0 {
				b.Fatalf("%d of %d searches failed; first: %s", n, b.N, errText)
			}
			p50, p99, ops := lat.report(b)
			b.Logf("N=%d, %d clients: p50 %.2f ms, p99 %.2f ms, %.1f searches/s", b.N, clients, ms(p50), ms(p99), ops)
		})
	}
}

// checkSearchPage runs the search once, untimed, and checks it answers
// what the benchmark claims to measure: a full first page of doctors
// within the radius, nearest first, out of more than one page.
func checkSearchPage(b *testing.B, c *client, payload []byte) int {
	b.Helper()
	raw, err := c.post("", payload)
	if err != nil {
		b.Fatal(err)
	}
	var res struct {
		Data struct {
			Doctors struct {
				TotalCount int
				PageInfo   struct{ HasNextPage bool }
				Edges      []struct {
					Node struct{ DistanceKm *float64 }
				}
			}
		}
		Errors []gqlError
	}
	if err := json.Unmarshal(raw, &res); err != nil || len(res.Errors) > 0 {
		b.Fatalf("search response: %v %s", err, raw)
	}
	d := res.Data.Doctors
	if len(d.Edges) != 20 || !d.PageInfo.HasNextPage || d.TotalCount <= 20 {
		b.Fatalf("want a full first page of many: %d edges, total %d, next %v", len(d.Edges), d.TotalCount, d.PageInfo.HasNextPage)
	}
	prev := 0.0
	for _, e := range d.Edges {
		if e.Node.DistanceKm == nil || *e.Node.DistanceKm < prev || *e.Node.DistanceKm > 10 {
			b.Fatalf("distances out of order or range: %s", raw)
		}
		prev = *e.Node.DistanceKm
	}
	return d.TotalCount
}
