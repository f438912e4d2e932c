package db

import (
	"context"
	"database/sql"
	"errors"
)

// warmStatements prepare a new backend for the searches. PostGIS's
// library and caches load on first use, about 30 ms of the database's
// CPU. Planning a statement over a table the backend has not touched yet
// loads the table's, its indexes' and their statistics' descriptions into
// the backend's caches first: 3-6 ms for the doctors' (a dozen indexes),
// then the slots' and appointments', which a search's next free slots
// read. Only planned (EXPLAIN), they read no rows. Warmed at start, the
// pool's connections pay all that before the replica is ready, not in its
// first burst of searches.
var warmStatements = []string{
	`SELECT 'SRID=4326;POINT(0 0)'::geography <-> 'SRID=4326;POINT(0 1)'::geography`,
	`EXPLAIN SELECT d.id, (SELECT s.id FROM slots s WHERE s.doctor_id = d.id AND s.deleted_at IS NULL
	   AND s.starts_at > now() AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id
	   AND a.status IN ('REQUESTED', 'ACCEPTED')) ORDER BY s.starts_at LIMIT 1)
	 FROM doctors d WHERE d.verification = 'VERIFIED' AND d.specialty_code = '' AND d.rating >= 0
	   AND ST_DWithin(d.location, 'SRID=4326;POINT(0 0)'::geography, 1, false)
	 ORDER BY d.location <-> 'SRID=4326;POINT(0 0)'::geography LIMIT 1`,
}

// Warm opens n of the pool's connections at once (at most its maximum)
// and runs warmStatements on each, then leaves them idle in the pool. It
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
			warm <- warmConn(ctx, c)
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

func warmConn(ctx context.Context, c *sql.Conn) error {
	for _, q := range warmStatements {
		rows, err := c.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		err = errors.Join(rows.Err(), rows.Close())
		if err != nil {
			return err
		}
	}
	return nil
}
