package live

import (
	"context"
	"time"
)

const (
	// pruneEvery is how often each replica deletes the events no
	// reconnecting client can ask for any more; replicas doing it
	// together only find less to delete.
	pruneEvery = 10 * time.Minute
	// pruneBatch rows are deleted per statement, so that pruning a
	// backlog takes no long lock nor one long transaction.
	pruneBatch = 5000
)

func (h *Hub) pruner(ctx context.Context) {
	tick := time.NewTicker(pruneEvery)
	defer tick.Stop()
	for {
		if n, err := h.Prune(ctx, time.Now().Add(-ReplayWindow)); err != nil && ctx.Err() == nil {
			h.log.Warn("pruning events", "err", err.Error())
		} else if n > 0 {
			h.log.Info("events pruned", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Prune deletes the events created before cutoff and returns how many.
//
// Ids grow with creation, so the events before cutoff are those below the
// smallest id created since: found walking the primary key from the
// oldest, which costs about what is deleted, and needs no index on
// created_at for every insert to maintain. A transaction committing
// meanwhile may add a newer row below that id: created_at is checked
// again as rows are deleted.
func (h *Hub) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	var bound *int64
	err := h.db.QueryRowContext(ctx, `SELECT coalesce(
		(SELECT id FROM events WHERE created_at >= $1 ORDER BY id LIMIT 1),
		(SELECT max(id) + 1 FROM events))`, cutoff).Scan(&bound)
	if err != nil || bound == nil {
		return 0, err
	}
	total := int64(0)
	for {
		res, err := h.db.ExecContext(ctx, `DELETE FROM events WHERE id IN (
			SELECT id FROM events WHERE id < $1 AND created_at < $2 ORDER BY id LIMIT $3)`, *bound, cutoff, pruneBatch)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}
