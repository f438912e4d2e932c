package serverproc

import (
	"context"
	"database/sql"
	"time"
)

// BackendCPU reads the CPU time of each PostgreSQL backend serving the
// database dbName (by pid), apart from the one asking. A backend that
// ends between two readings is missed, which the benchmarks keep rare by
// keeping their pools' connections open.
func BackendCPU(ctx context.Context, db *sql.DB, dbName string) map[int]time.Duration {
	out := map[int]time.Duration{}
	rows, err := db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, dbName)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			if c, err := CPU(pid); err == nil {
				out[pid] = c
			}
		}
	}
	return out
}

// BackendCPUSince is the backends' CPU between two readings; a backend
// that started meanwhile counts whole (the cost of starting one is part
// of the load).
func BackendCPUSince(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, c := range after {
		d += c - before[pid]
	}
	return d
}
