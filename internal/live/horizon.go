package live

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Events are numbered (events.ord) as their transaction commits, by a
// deferred trigger (see the event_order migration), which first announces
// itself with a shared advisory lock, then takes the number, then
// publishes it as a second advisory lock. These keys must stay in step
// with that trigger.
const (
	announceKey = 1212503620 // (announceKey, 0)
	publishBase = 1212503621 // (publishBase + ord>>31, ord & (1<<31-1))
)

// horizon is what may be delivered: every event numbered below next has
// committed or never will, except those of the transactions still
// committing (inflight). Unlike a snapshot's xmin, it is blind to
// transactions that write no event and to other databases of the cluster.
type horizon struct {
	next     int64
	inflight []int64
	// unsettled is set when a transaction announced itself but has not
	// published its number yet: it may take any number, so nothing after
	// the cursor is known to be complete. It lasts a few microseconds.
	unsettled bool
}

// below is the first number that may still gain events, ignoring
// in-flight numbers skip says to.
func (hz horizon) below(skip func(int64) bool) int64 {
	b := hz.next
	for _, o := range hz.inflight {
		if !skip(o) {
			b = min(b, o)
		}
	}
	return b
}

func never(int64) bool { return false }

// readHorizon reads the sequence, then the locks, in two statements and in
// that order; the events read after it (in a later statement, so with a
// later snapshot) are complete below the horizon. A writer missing from
// pg_locks has either ended, and then its rows are visible to any later
// snapshot (its locks go after its commit became visible), or had not
// announced itself yet when the locks were read, and then takes a number
// above the sequence value read before.
func readHorizon(ctx context.Context, db *sql.DB) (horizon, error) {
	var hz horizon
	if err := db.QueryRowContext(ctx, `SELECT last_value FROM event_ord_seq`).Scan(&hz.next); err != nil {
		return hz, err
	}
	hz.next++
	rows, err := db.QueryContext(ctx, `SELECT classid = $1, (classid::bigint - $2) << 31 | objid::bigint
		FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND classid >= $1
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		announceKey, publishBase)
	if err != nil {
		return hz, err
	}
	defer rows.Close()
	announced := 0
	for rows.Next() {
		var announce bool
		var ord int64
		if err := rows.Scan(&announce, &ord); err != nil {
			return hz, err
		}
		if announce {
			announced++
		} else {
			hz.inflight = append(hz.inflight, ord)
		}
	}
	hz.unsettled = announced > len(hz.inflight)
	return hz, rows.Err()
}

// errUnsettled means writers kept announcing themselves without
// publishing their numbers, which only a stopped backend would do.
var errUnsettled = errors.New("event writers did not publish their order numbers")

// settledHorizon waits out the short window between a writer's announcing
// itself and its publishing its number.
func settledHorizon(ctx context.Context, db *sql.DB) (horizon, error) {
	for wait := 100 * time.Microsecond; ; wait *= 2 {
		hz, err := readHorizon(ctx, db)
		if err != nil || !hz.unsettled {
			return hz, err
		}
		if wait > time.Second {
			return hz, errUnsettled
		}
		select {
		case <-ctx.Done():
			return hz, ctx.Err()
		case <-time.After(wait):
		}
	}
}
