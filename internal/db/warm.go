package db

import (
	"context"
	"database/sql"
	"errors"
)

// warmStatement runs the PostGIS code a search runs. A new PostgreSQL
// backend loads the PostGIS library and its caches on first use, about
// 30 ms of the database's CPU; warmed at start, the pool's connections
// pay that before the replica is ready, not during its first burst of
// searches.
const warmStatement = `SELECT 'SRID=4326;POINT(0 0)'::geography <-> 'SRID=4326;POINT(0 1)'::geography`

// Warm opens n of the pool's connections at once (at most its maximum)
// and runs warmStatement on each, then leaves them idle in the pool. It
// returns how many it warmed; the error is the first it met.
func Warm(ctx context.Context, pool *sql.DB, n int) (int, error) {
	if max := pool.Stats().MaxOpenConnections; max > 0 && n > max {
		n = max
	}
	// Each connection is held until all are open, or the pool would hand
	// the same one out again.
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var errs []error
	for range n {
		c, err := pool.Conn(ctx)
		if err != nil {
			errs = append(errs, err)
			break
		}
		conns = append(conns, c)
	}
	warm := make(chan error, len(conns))
	for _, c := range conns {
		go func() {
			var d float64
			warm <- c.QueryRowContext(ctx, warmStatement).Scan(&d)
		}()
	}
	warmed := 0
	for range conns {
		if err := <-warm; err != nil {
			errs = append(errs, err)
		} else {
			warmed++
		}
	}
	return warmed, errors.Join(errs...)
}
