package live

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Positions remembers, per sign-in and subscription, the last event a
// subscription handed to its client when it ended, so that a standard
// client's automatic resubscription (graphql-ws and Apollo resend the
// original subscribe message, `after:` included) resumes there on any
// replica: the client writes no resume code.
//
// A subscription is named by its field and arguments; two tabs of one
// sign-in with the same subscription share a position, which is harmless
// because they receive the same events in the same order.
//
// Positions end with the sign-in's refresh window at the latest; they
// are kept for Window after the subscription ended.
type Positions struct {
	db     *sql.DB
	log    *slog.Logger
	Window time.Duration

	mu      sync.Mutex
	pending map[positionKey]int
	kick    chan struct{}
}

type positionKey struct{ family, name string }

// ResumeWindow is how long after a subscription ended its resubscription
// still resumes: longer than any client's reconnect back-off, shorter than
// a page a user would expect to start afresh.
const ResumeWindow = 5 * time.Minute

// shutdownLinger covers the drain of a stopping server's sockets.
const shutdownLinger = 10 * time.Second

// NewPositions returns a store; Run writes what it remembers.
func NewPositions(db *sql.DB, log *slog.Logger) *Positions {
	return &Positions{db: db, log: log, Window: ResumeWindow, pending: map[positionKey]int{}, kick: make(chan struct{}, 1)}
}

// Remember records that the subscription name of the sign-in family last
// delivered event id. It never blocks on the database.
func (p *Positions) Remember(family, name string, eventID int) {
	if p == nil || family == "" || eventID == 0 {
		return
	}
	p.mu.Lock()
	p.pending[positionKey{family, name}] = eventID
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Recall returns the event a new subscription name of the sign-in family
// resumes after, if one ended within the window.
func (p *Positions) Recall(ctx context.Context, family, name string) (int, bool, error) {
	if p == nil || family == "" {
		return 0, false, nil
	}
	p.mu.Lock()
	id, ok := p.pending[positionKey{family, name}]
	p.mu.Unlock()
	if ok {
		return id, true, nil
	}
	err := p.db.QueryRowContext(ctx, `SELECT event_id FROM live_positions
		WHERE family = $1 AND name = $2 AND updated_at > now() - make_interval(secs => $3)`,
		family, name, p.Window.Seconds()).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, false, nil
	}
	return id, err == nil, err
}

// Run writes remembered positions as they come, those that arrive during
// a write together in the next, until ctx ends; and forgets those past
// the window. A position is in the database a few milliseconds after its
// subscription ended, well before a client's reconnect back-off is over.
func (p *Positions) Run(ctx context.Context) {
	prune := time.NewTicker(p.Window)
	defer prune.Stop()
	// The server's context ends before its sockets are drained: positions
	// keep being written for a while after, each as soon as it comes.
	var linger <-chan time.Time
	done := ctx.Done()
	for {
		select {
		case <-done:
			done, linger = nil, time.After(shutdownLinger)
		case <-linger:
			return
		case <-p.kick:
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := p.Flush(wctx); err != nil {
				p.log.Warn("subscription positions", "err", err.Error())
			}
			cancel()
		case <-prune.C:
			if _, err := p.db.ExecContext(ctx, `DELETE FROM live_positions WHERE updated_at < now() - make_interval(secs => $1)`,
				p.Window.Seconds()); err != nil && ctx.Err() == nil {
				p.log.Warn("pruning subscription positions", "err", err.Error())
			}
		}
	}
}

// Flush writes every remembered position now, in one statement.
func (p *Positions) Flush(ctx context.Context) error {
	p.mu.Lock()
	batch := p.pending
	p.pending = map[positionKey]int{}
	p.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	families, names, ids := make([]string, 0, len(batch)), make([]string, 0, len(batch)), make([]int64, 0, len(batch))
	for k, id := range batch {
		families, names, ids = append(families, k.family), append(names, k.name), append(ids, int64(id))
	}
	_, err := p.db.ExecContext(ctx, `INSERT INTO live_positions (family, name, event_id, updated_at)
		SELECT f, n, e, now() FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(f, n, e)
		ON CONFLICT (family, name) DO UPDATE SET event_id = EXCLUDED.event_id, updated_at = EXCLUDED.updated_at`,
		pq.Array(families), pq.Array(names), pq.Array(ids))
	if err != nil {
		// Put them back unless a newer position arrived meanwhile.
		p.mu.Lock()
		for k, id := range batch {
			if _, newer := p.pending[k]; !newer {
				p.pending[k] = id
			}
		}
		p.mu.Unlock()
	}
	return err
}
