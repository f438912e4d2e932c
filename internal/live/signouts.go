package live

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/lib/pq"
)

// signoutPoll is how soon an open socket notices that its sign-in
// was ended (logout, a password change, a reused refresh token).
const signoutPoll = time.Second

// Signouts tells when sign-ins end. Access tokens are refused at once
// when their sign-in ends, but a websocket authenticated when it opened;
// this watcher asks the database, once a second and in one query per
// replica, which of the sign-ins holding sockets were revoked, wherever
// that happened.
type Signouts struct {
	db  *sql.DB
	log *slog.Logger

	mu    sync.Mutex
	feeds map[string]map[*signoutWatch]struct{}
}

// NewSignouts returns a watcher on db; Run starts it.
func NewSignouts(db *sql.DB, log *slog.Logger) *Signouts {
	return &Signouts{db: db, log: log, feeds: map[string]map[*signoutWatch]struct{}{}}
}

type signoutWatch struct{ end func() }

// Watch calls end once the sign-in is found ended; the returned stop
// forgets it.
func (w *Signouts) Watch(sessionID string, end func()) (stop func()) {
	sw := &signoutWatch{end: end}
	w.mu.Lock()
	set := w.feeds[sessionID]
	if set == nil {
		set = map[*signoutWatch]struct{}{}
		w.feeds[sessionID] = set
	}
	set[sw] = struct{}{}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if set := w.feeds[sessionID]; set != nil {
			delete(set, sw)
			if len(set) == 0 {
				delete(w.feeds, sessionID)
			}
		}
	}
}

// Run checks every signoutPoll until ctx ends.
func (w *Signouts) Run(ctx context.Context) {
	t := time.NewTicker(signoutPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := w.check(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("checking ended sign-ins", "err", err.Error())
		}
	}
}

func (w *Signouts) check(ctx context.Context) error {
	w.mu.Lock()
	ids := make([]string, 0, len(w.feeds))
	for id := range w.feeds {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	rows, err := w.db.QueryContext(ctx,
		`SELECT DISTINCT family FROM sessions WHERE family = ANY($1) AND revoked_at IS NOT NULL`, pq.Array(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	var ended []func()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		w.mu.Lock()
		for sw := range w.feeds[id] {
			ended = append(ended, sw.end)
		}
		w.mu.Unlock()
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Outside the lock: ending a socket forgets its watch.
	for _, end := range ended {
		end()
	}
	return nil
}
