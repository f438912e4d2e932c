package bench

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/healthmed/healthmed/bench/workload"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/search"
)

// TestSearchTotalCountIsBounded checks totalCount against the seeded
// rows: exact below search.MaxTotalCount, the bound itself above it, by
// distance and by id, and the same on every page.
func TestSearchTotalCountIsBounded(t *testing.T) {
	env := apptest.New(t, apptest.Unthrottled())
	ctx := context.Background()
	const n = 600
	if _, _, err := workload.SeedDoctors(ctx, env.DB.SQL, n, 4); err != nil {
		t.Fatalf("seed: %v", err)
	}
	count := func(where string, args ...any) int {
		var c int
		// The search lists verified doctors only.
		if err := env.DB.SQL.QueryRowContext(ctx, "SELECT count(*) FROM doctors WHERE verification = 'VERIFIED' AND "+where, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	const sp = "ST_DWithin(location, ST_GeogFromText('SRID=4326;POINT(-46.6333 -23.5505)'), $1, false)"
	near := map[string]any{"lat": workload.SaoPauloLat, "lng": workload.SaoPauloLng}
	const op = `query($near: GeoPointInput, $km: Float, $s: String, $after: Cursor) {
		doctors(near: $near, withinKm: $km, specialty: $s, first: 5, after: $after) { totalCount pageInfo { endCursor } }
	}`
	for _, c := range []struct {
		name string
		vars map[string]any
		want int
	}{
		{"every doctor", map[string]any{}, min(n, search.MaxTotalCount)},
		{"one specialty", map[string]any{"s": "Cardiology"}, count("specialty = 'Cardiology'")},
		{"within 5 km", map[string]any{"near": near, "km": 5.0}, count(sp, 5000)},
		{"within 100 km", map[string]any{"near": near, "km": 100.0}, min(count(sp, 100000), search.MaxTotalCount)},
	} {
		var after any
		for page := 0; page < 2; page++ {
			vars := map[string]any{"after": after}
			for k, v := range c.vars {
				vars[k] = v
			}
			var res struct {
				Doctors struct {
					TotalCount int
					PageInfo   struct{ EndCursor *string }
				}
			}
			if err := json.Unmarshal(graphql(t, env.App.Handler, op, vars), &res); err != nil {
				t.Fatal(err)
			}
			if res.Doctors.TotalCount != c.want {
				t.Errorf("%s, page %d: totalCount %d, want %d", c.name, page+1, res.Doctors.TotalCount, c.want)
			}
			after = res.Doctors.PageInfo.EndCursor
		}
	}
	if count(sp, 100000) <= search.MaxTotalCount || count(sp, 5000) >= search.MaxTotalCount {
		t.Fatalf("the seed no longer covers both sides of the bound")
	}
}
