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
// replica, which of the sign-ins holding sockets were revoked (and, for
// tokens that name no sign-in, which patients were deactivated), wherever
// that happened.
type Signouts struct {
	db  *sql.DB
	log *slog.Logger

	mu    sync.Mutex
	feeds map[string]map[*signoutWatch]struct{}
	// patients are watched for deactivation: the sockets of tokens that
	// name no sign-in (an external provider's).
	patients map[int]map[*signoutWatch]struct{}
}

// NewSignouts returns a watcher on db; Run starts it.
func NewSignouts(db *sql.DB, log *slog.Logger) *Signouts {
	return &Signouts{db: db, log: log, feeds: map[string]map[*signoutWatch]struct{}{},
		patients: map[int]map[*signoutWatch]struct{}{}}
}

type signoutWatch struct{ end func() }

// Watch calls end once the sign-in is found ended; the returned stop
// forgets it.
func (w *Signouts) Watch(sessionID string, end func()) (stop func()) {
	return watchIn(w, w.feeds, sessionID, end)
}

// WatchPatient calls end once the patient's account is found
// deactivated; the returned stop forgets it.
func (w *Signouts) WatchPatient(id int, end func()) (stop func()) {
	return watchIn(w, w.patients, id, end)
}

func watchIn[K comparable](w *Signouts, m map[K]map[*signoutWatch]struct{}, k K, end func()) (stop func()) {
	sw := &signoutWatch{end: end}
	w.mu.Lock()
	set := m[k]
	if set == nil {
		set = map[*signoutWatch]struct{}{}
		m[k] = set
	}
	set[sw] = struct{}{}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if set := m[k]; set != nil {
			delete(set, sw)
			if len(set) == 0 {
				delete(m, k)
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
	ids := keys(w.feeds)
	patients := keys(w.patients)
	w.mu.Unlock()
	var ended []func()
	if len(ids) > 0 {
		out, err := endedIn(ctx, w, w.feeds,
			`SELECT DISTINCT family FROM sessions WHERE family = ANY($1) AND revoked_at IS NOT NULL`, pq.Array(ids))
		if err != nil {
			return err
		}
		ended = append(ended, out...)
	}
	if len(patients) > 0 {
		out, err := endedIn(ctx, w, w.patients,
			`SELECT id FROM patients WHERE id = ANY($1) AND deactivated_at IS NOT NULL`, pq.Array(patients))
		if err != nil {
			return err
		}
		ended = append(ended, out...)
	}
	// Outside the lock: ending a socket forgets its watch.
	for _, end := range ended {
		end()
	}
	return nil
}

func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// endedIn runs query, which returns the keys of m that ended, and
// collects their watches' ends.
func endedIn[K comparable](ctx context.Context, w *Signouts, m map[K]map[*signoutWatch]struct{}, query string, arg any) ([]func(), error) {
	rows, err := w.db.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ended []func()
	for rows.Next() {
		var k K
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		w.mu.Lock()
		for sw := range m[k] {
			ended = append(ended, sw.end)
		}
		w.mu.Unlock()
	}
	return ended, rows.Err()
}
