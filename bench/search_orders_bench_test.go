package bench

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/internal/apptest"
)

const searchOrdersOp = `query($near: GeoPointInput, $km: Float, $order: DoctorOrder, $name: String, $first: Int) {
  doctors(near: $near, withinKm: $km, orderBy: $order, name: $name, first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name rating distanceKm } }
  }
}`

// BenchmarkSearchOrders measures a first page of 20 of each ordering of
// the doctor search, one client, through the HTTP handler on 100,000
// seeded doctors (free slots for those within 15 km of São Paulo's
// centre): nearest first within 10 km, best rated first, soonest free
// slot first, and a name prefix.
func BenchmarkSearchOrders(b *testing.B) {
	env := apptest.New(b, apptest.Unthrottled())
	ctx := context.Background()
	if _, _, err := workload.SeedDoctors(ctx, env.DB.SQL, benchDoctors, 1); err != nil {
		b.Fatalf("seed: %v", err)
	}
	if _, err := workload.SeedSlots(ctx, env.DB.SQL); err != nil {
		b.Fatalf("seed slots: %v", err)
	}
	c := newClient(env.Server.URL, 1)
	defer c.close()
	near := map[string]any{"lat": workload.SaoPauloLat, "lng": workload.SaoPauloLng}
	for _, o := range []struct {
		name string
		vars map[string]any
	}{
		{"DISTANCE", map[string]any{"near": near, "km": 10.0, "order": "DISTANCE"}},
		{"RATING", map[string]any{"order": "RATING"}},
		{"NEXT_FREE_SLOT", map[string]any{"order": "NEXT_FREE_SLOT"}},
		{"name prefix", map[string]any{"name": "Dr. Bench 01"}},
	} {
		o.vars["first"] = 20
		payload := body(searchOrdersOp, o.vars)
		b.Run(o.name, func(b *testing.B) {
			if raw, err := c.post("", payload); err != nil || bytes.Contains(raw, []byte(`"errors"`)) ||
				bytes.Count(raw, []byte(`"cursor"`)) != 20 {
				b.Fatalf("not a full page: %v %s", err, raw)
			}
			var lat latencies
			local := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				raw, err := c.post("", payload)
				local = append(local, time.Since(start))
				if err == nil && bytes.Contains(raw, []byte(`"errors"`)) {
					err = fmt.Errorf("GraphQL errors: %s", raw)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			lat.add(local)
			p50, p99, _ := lat.report(b)
			b.Logf("%s, N=%d: p50 %.2f ms, p99 %.2f ms", o.name, b.N, ms(p50), ms(p99))
		})
	}
}
