package workload

import (
	"context"
	"database/sql"
)

// SeedSlots gives every doctor within 15 km of São Paulo's centre three
// free slots tomorrow (08:00 to 11:00 UTC), so the searches' next free
// slot has something to find. It returns the slots in the table.
func SeedSlots(ctx context.Context, db *sql.DB) (int64, error) {
	_, err := db.ExecContext(ctx, `
INSERT INTO slots (created_at, updated_at, doctor_id, starts_at, ends_at)
SELECT now(), now(), d.id, date_trunc('day', now()) + interval '1 day' + h * interval '1 hour',
       date_trunc('day', now()) + interval '1 day' + h * interval '1 hour' + interval '30 minutes'
FROM doctors d, generate_series(8, 10) h
WHERE ST_DWithin(d.location, ST_GeogFromText('SRID=4326;POINT(-46.6333 -23.5505)'), 15000)`)
	if err != nil {
		return 0, err
	}
	var free int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM slots`).Scan(&free); err != nil {
		return 0, err
	}
	_, err = db.ExecContext(ctx, `VACUUM (ANALYZE) slots`)
	return free, err
}
