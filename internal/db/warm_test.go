package db_test

import (
	"context"
	"testing"

	"github.com/healthmed/healthmed/internal/db"
	"github.com/healthmed/healthmed/internal/testdb"
)

// Warm leaves as many distinct connections idle in the pool as asked,
// never more than the pool may open, each having run PostGIS's code.
func TestWarmOpensDistinctConnections(t *testing.T) {
	d := testdb.New(t)
	ctx := context.Background()
	for _, tc := range []struct{ max, ask, want int }{{8, 5, 5}, {3, 5, 3}} {
		pool, err := db.Open(d.URL)
		if err != nil {
			t.Fatal(err)
		}
		pool.SetMaxOpenConns(tc.max)
		pool.SetMaxIdleConns(tc.max)
		n, err := db.Warm(ctx, pool, tc.ask)
		if err != nil || n != tc.want {
			t.Fatalf("max %d, asked %d: warmed %d, %v; want %d", tc.max, tc.ask, n, err, tc.want)
		}
		if s := pool.Stats(); s.OpenConnections != tc.want || s.Idle != tc.want {
			t.Fatalf("max %d, asked %d: %d open, %d idle; want %d of each", tc.max, tc.ask, s.OpenConnections, s.Idle, tc.want)
		}
		pool.Close()
	}
}
