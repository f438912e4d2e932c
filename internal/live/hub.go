package live

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Channel is the PostgreSQL notification channel that wakes the readers.
const Channel = "healthmed_events"

const (
	pollBatch = 1000
	// pollEvery bounds the delay of an event whose notification was lost.
	pollEvery = time.Second
	// While committed events wait for older transactions to end (see
	// safe), the hub reads again after retryMin, backing off to retryMax,
	// instead of waiting for the next notification or poll.
	retryMin = 10 * time.Millisecond
	retryMax = 100 * time.Millisecond
	// subBuffer events wait for a slow subscriber before it is dropped.
	subBuffer = 32
)

// Cursor orders events: by writing transaction, then by id.
type Cursor struct{ TxID, ID int64 }

// Less reports whether c comes before o.
func (c Cursor) Less(o Cursor) bool { return c.TxID < o.TxID || (c.TxID == o.TxID && c.ID < o.ID) }

// CursorOf returns an event's position.
func CursorOf(e *ent.Event) Cursor { return Cursor{TxID: e.Txid, ID: int64(e.ID)} }

// Key names whose events a subscription receives.
type Key struct {
	Role viewer.Role
	ID   int
}

// Subscriber receives one subscription's events from the hub. It has no
// goroutine of its own to spend: the hub hands it each event on its
// reading goroutine, and the subscriber decides there what to do with it
// (see stream). With tens of thousands of subscriptions per replica, a
// goroutine each would cost more memory than everything else they hold.
type Subscriber interface {
	// Deliver gets every event of the subscription's key, in order, on the
	// hub's goroutine and never under the hub's lock. It must not block:
	// it queues the event, or ends the subscription and returns false when
	// the subscriber does not keep up.
	Deliver(*ent.Event) bool
	// Stop is called once, outside the hub's lock, when the hub ends the
	// subscription itself (shutdown); not after Unsubscribe.
	Stop(error)
}

// ErrShutdown ends subscriptions when the server stops.
var ErrShutdown = errors.New("server shutting down")

// Hub reads new events and hands each to the subscriptions of the doctor
// and the patient it concerns.
type Hub struct {
	client *ent.Client
	db     *sql.DB
	dsn    string
	log    *slog.Logger

	mu     sync.Mutex
	subs   map[Key]map[Subscriber]struct{}
	last   Cursor
	closed bool

	wake   chan struct{}
	notify chan struct{}
	ready  chan struct{}

	// OnDeliver, when set before Run, is told after each event how many
	// subscriptions it was handed to and how many were dropped as too
	// slow. It runs on the hub's reading goroutine: a counter, nothing
	// more.
	OnDeliver func(delivered, dropped int)
}

// NewHub returns a hub; Run starts it. dsn opens the listening
// connection, which must be a direct one (LISTEN does not survive
// transaction-pooling proxies).
func NewHub(client *ent.Client, db *sql.DB, dsn string, log *slog.Logger) *Hub {
	return &Hub{
		client: client, db: db, dsn: listenerDSN(dsn), log: log,
		subs:   map[Key]map[Subscriber]struct{}{},
		wake:   make(chan struct{}, 1),
		notify: make(chan struct{}, 1),
		ready:  make(chan struct{}),
	}
}

// ListenerName is the application_name of the listening connection, so
// operators (and tests) can find it in pg_stat_activity.
const ListenerName = "healthmed-listener"

func listenerDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("application_name", ListenerName)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " application_name=" + ListenerName
}

// Wake asks this replica to read new events now and every other replica
// to do the same.
func (h *Hub) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

// Ready is closed once the hub has its starting position.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run reads events until ctx ends. Subscribers get the events committed
// after Run started (and what they ask to replay).
func (h *Hub) Run(ctx context.Context) error {
	start, err := h.head(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.last = start
	h.mu.Unlock()
	close(h.ready)

	listener := pq.NewListener(h.dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			h.log.Warn("event listener", "event", int(ev), "err", err.Error())
		}
	})
	defer listener.Close()
	if err := listener.Listen(Channel); err != nil {
		return err
	}
	go h.notifier(ctx)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	retry := time.NewTimer(retryMax)
	retry.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			h.closeAll(ErrShutdown)
			return nil
		case <-h.wake:
		case n := <-listener.Notify:
			// nil means the connection was re-established: notifications
			// sent meanwhile are lost, and the poll below catches up.
			if n == nil {
				h.log.Info("event listener reconnected")
			}
		case <-tick.C:
		case <-retry.C:
		}
		held, err := h.poll(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Error("reading events", "err", err.Error())
		}
		// Any transaction of the cluster that is still running (another
		// database's too: transaction ids are cluster-wide) holds back
		// events committed after it began. Nothing wakes the hub when it
		// ends, so without this the events would wait for the next poll.
		if held {
			backoff = min(max(2*backoff, retryMin), retryMax)
			retry.Reset(backoff)
		} else {
			backoff = 0
		}
	}
}

// notifier sends one NOTIFY per burst of wakes, outside any transaction:
// a NOTIFY inside the booking transaction would serialise every commit on
// the notification queue lock.
func (h *Hub) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.notify:
			if _, err := h.db.ExecContext(ctx, `SELECT pg_notify($1, '')`, Channel); err != nil && ctx.Err() == nil {
				h.log.Warn("notify", "err", err.Error())
			}
		}
	}
}

// safe keeps only events of transactions older than every transaction
// still running, so no event can later appear before the cursor.
func safe(s *entsql.Selector) {
	s.Where(entsql.ExprP(s.C(event.FieldTxid) + " < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"))
}

// unsafe is the rest: events already visible whose transaction is younger
// than one still running.
func unsafe(s *entsql.Selector) {
	s.Where(entsql.ExprP(s.C(event.FieldTxid) + " >= (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"))
}

func after(c Cursor) func(*entsql.Selector) {
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			b.WriteString("(" + s.C(event.FieldTxid) + ", " + s.C(event.FieldID) + ") > (").
				Arg(c.TxID).WriteString(", ").Arg(c.ID).WriteString(")")
		}))
	}
}

func (h *Hub) head(ctx context.Context) (Cursor, error) {
	e, err := h.client.Event.Query().Where(safe).
		Order(ent.Desc(event.FieldTxid), ent.Desc(event.FieldID)).First(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, err
	}
	return CursorOf(e), nil
}

// poll delivers the safe events after the cursor, and reports whether
// visible events wait behind a running transaction.
func (h *Hub) poll(ctx context.Context) (held bool, err error) {
	for {
		h.mu.Lock()
		from := h.last
		h.mu.Unlock()
		evs, err := h.client.Event.Query().Where(safe, after(from)).
			Order(ent.Asc(event.FieldTxid), ent.Asc(event.FieldID)).Limit(pollBatch).All(viewer.SystemContext(ctx))
		if err != nil {
			return false, err
		}
		// Who gets which event is settled under the lock, together with
		// the cursor, so that a subscription registered meanwhile either
		// gets an event here or finds it in its snapshot. The deliveries
		// run outside the lock: the first one of an event loads it from
		// the database, and a subscriber that gives up unsubscribes.
		targets := make([][]Subscriber, len(evs))
		h.mu.Lock()
		for i, e := range evs {
			targets[i] = h.targetsLocked(e)
			h.last = CursorOf(e)
		}
		h.mu.Unlock()
		for i, e := range evs {
			delivered, dropped := 0, 0
			for _, s := range targets[i] {
				if s.Deliver(e) {
					delivered++
				} else {
					dropped++
				}
			}
			if h.OnDeliver != nil {
				h.OnDeliver(delivered, dropped)
			}
		}
		if len(evs) < pollBatch {
			h.mu.Lock()
			from = h.last
			h.mu.Unlock()
			return h.client.Event.Query().Where(unsafe, after(from)).Exist(viewer.SystemContext(ctx))
		}
	}
}

// targetsLocked lists the subscriptions of the doctor and the patient an
// event concerns.
func (h *Hub) targetsLocked(e *ent.Event) []Subscriber {
	doctor := h.subs[Key{Role: viewer.Doctor, ID: e.DoctorID}]
	var patient map[Subscriber]struct{}
	if e.PatientID != nil {
		patient = h.subs[Key{Role: viewer.Patient, ID: *e.PatientID}]
	}
	out := make([]Subscriber, 0, len(doctor)+len(patient))
	for s := range doctor {
		out = append(out, s)
	}
	for s := range patient {
		out = append(out, s)
	}
	return out
}

// Subscribe registers s for the events of k that the hub reads from now
// on.
func (h *Hub) Subscribe(k Key, s Subscriber) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrShutdown
	}
	if h.subs[k] == nil {
		h.subs[k] = map[Subscriber]struct{}{}
	}
	h.subs[k][s] = struct{}{}
	return nil
}

// Unsubscribe removes s from k; it is safe to call more than once, and
// before Subscribe. A delivery already under way may still reach s.
func (h *Hub) Unsubscribe(k Key, s Subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if set, ok := h.subs[k]; ok {
		delete(set, s)
		if len(set) == 0 {
			delete(h.subs, k)
		}
	}
}

func (h *Hub) closeAll(why error) {
	h.mu.Lock()
	h.closed = true
	var all []Subscriber
	for _, set := range h.subs {
		for s := range set {
			all = append(all, s)
		}
	}
	h.subs = map[Key]map[Subscriber]struct{}{}
	h.mu.Unlock()
	for _, s := range all {
		s.Stop(why)
	}
}

// Shutdown ends every subscription now; the server calls it on SIGTERM.
func (h *Hub) Shutdown() { h.closeAll(ErrShutdown) }

// Subscribers counts the open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// Position is where a new subscription stands: every event visible when
// it subscribed. Events the hub has not yet delivered are either after
// Safe, or visible but not yet safe (their transaction is younger than
// one still running), and those are listed in Seen.
type Position struct {
	Safe Cursor
	Seen map[int]bool
}

// Delivered reports whether e was already visible at the position.
func (p Position) Delivered(e *ent.Event) bool {
	return !p.Safe.Less(CursorOf(e)) || p.Seen[e.ID]
}

// Snapshot reads, in one consistent snapshot, the position of a new
// subscription of k and, when from is given, the events of k after from
// that it missed (at most a day old).
func (h *Hub) Snapshot(ctx context.Context, k Key, from *Cursor) (Position, []*ent.Event, error) {
	ctx = viewer.SystemContext(ctx)
	tx, err := h.client.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return Position{}, nil, err
	}
	defer tx.Rollback() //nolint:errcheck
	pos := Position{Seen: map[int]bool{}}
	top, err := tx.Event.Query().Where(safe).
		Order(ent.Desc(event.FieldTxid), ent.Desc(event.FieldID)).First(ctx)
	switch {
	case err == nil:
		pos.Safe = CursorOf(top)
	case !ent.IsNotFound(err):
		return Position{}, nil, err
	}
	young, err := tx.Event.Query().Where(unsafe).IDs(ctx)
	if err != nil {
		return Position{}, nil, err
	}
	for _, id := range young {
		pos.Seen[id] = true
	}
	if from == nil {
		return pos, nil, nil
	}
	q := tx.Event.Query().Where(after(*from), event.CreatedAtGT(time.Now().Add(-ReplayWindow)))
	if k.Role == viewer.Doctor {
		q.Where(event.DoctorID(k.ID))
	} else {
		q.Where(event.PatientID(k.ID))
	}
	// One more than a replay may hold tells the caller there is more.
	missed, err := q.Order(ent.Asc(event.FieldTxid), ent.Asc(event.FieldID)).Limit(MaxReplay + 1).All(ctx)
	return pos, missed, err
}

// ReplayWindow and MaxReplay bound what a reconnecting client can ask
// for; a client that missed more is told to refetch.
const (
	ReplayWindow = 24 * time.Hour
	MaxReplay    = 100
)
