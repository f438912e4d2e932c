package live

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/predicate"
	"github.com/healthmed/healthmed/internal/fresh"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Channel is the PostgreSQL notification channel that wakes the readers.
const Channel = "healthmed_events"

// pollEvery bounds the delay of an event whose notification was lost. A
// variable only so that a test can take the poll out of the way.
var pollEvery = time.Second

const (
	pollBatch = 1000

	// While committed events wait for transactions still committing
	// earlier numbers (see horizon), the hub reads again after retryMin,
	// backing off to retryMax, instead of waiting for the next
	// notification or poll.
	retryMin = 10 * time.Millisecond
	retryMax = 100 * time.Millisecond
	// subBuffer events wait for a slow subscriber before it is dropped.
	subBuffer = 32
	// pollGap is the least time between two reads of the events, and
	// between two NOTIFYs of one replica. Under a stream of commits the
	// wake-ups come faster than a read takes, and a read (the horizon
	// scans pg_locks, which holds every lock partition while it copies
	// them) started at once after each would keep the hub reading back
	// to back, slowing down the very commits it reads. Waiting a few
	// milliseconds gathers the commits of that time into one read and
	// one NOTIFY, at the price of that much delivery latency.
	pollGap = 5 * time.Millisecond
)

// DefaultMaxHold bounds how long a transaction that is committing events
// holds back the events numbered after its own. Committing takes
// milliseconds; only a stalled commit (a synchronous standby gone, a
// transaction that fired the trigger early with SET CONSTRAINTS and kept
// going) reaches it.
const DefaultMaxHold = 2 * time.Second

// Cursor orders events: by the commit of the writing transaction (ord),
// then by id.
type Cursor struct{ Ord, ID int64 }

// Less reports whether c comes before o.
func (c Cursor) Less(o Cursor) bool { return c.Ord < o.Ord || (c.Ord == o.Ord && c.ID < o.ID) }

// CursorOf returns an event's position.
func CursorOf(e *ent.Event) Cursor { return Cursor{Ord: e.Ord, ID: int64(e.ID)} }

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

	// receiving counts the subscriptions past their starting position
	// (see Receiving).
	receiving atomic.Int64

	// Owned by the reading goroutine. since is when each number still
	// committing was first seen; late holds the numbers the cursor went
	// past while they were committing, whose events are delivered when
	// they end, out of order.
	since map[int64]time.Time
	late  map[int64]bool

	wake   chan struct{}
	notify chan struct{}
	ready  chan struct{}

	// horizons is the horizon as new subscriptions read it, shared by
	// those that start together: a connection storm would otherwise scan
	// pg_locks once per subscription.
	horizons *fresh.Reads[horizon]

	// MaxHold, when set before Run, replaces DefaultMaxHold.
	MaxHold time.Duration

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
		since:  map[int64]time.Time{},
		late:   map[int64]bool{},
		wake:   make(chan struct{}, 1),
		notify: make(chan struct{}, 1),
		ready:  make(chan struct{}),
		horizons: &fresh.Reads[horizon]{Timeout: horizonReadTimeout,
			Read: func(ctx context.Context) (horizon, error) { return settledHorizon(ctx, db) }},
	}
}

// horizonReadTimeout bounds a horizon read that new subscriptions share
// (Snapshot): settling waits a second at the most, the rest is two
// statements.
const horizonReadTimeout = 10 * time.Second

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
	go h.pruner(ctx)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	retry := time.NewTimer(retryMax)
	retry.Stop()
	backoff := time.Duration(0)
	var polled time.Time
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
		// Wake-ups arriving meanwhile wait in their channels (one each)
		// and lead to one more read after this one.
		if !sleep(ctx, pollGap-time.Since(polled)) {
			continue
		}
		polled = time.Now()
		held, err := h.poll(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Error("reading events", "err", err.Error())
		}
		// A transaction committing events holds back those numbered
		// after its own. Nothing wakes the hub when it ends, so without
		// this the events would wait for the next poll.
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
			// Commits meanwhile share the next NOTIFY.
			sleep(ctx, pollGap)
		}
	}
}

// sleep waits d (nothing when d <= 0) and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return ctx.Err() == nil
}

// after keeps the events after c.
func after(c Cursor) func(*entsql.Selector) {
	return func(s *entsql.Selector) {
		s.Where(entsql.P(func(b *entsql.Builder) {
			b.WriteString("(" + s.C(event.FieldOrd) + ", " + s.C(event.FieldID) + ") > (").
				Arg(c.Ord).WriteString(", ").Arg(c.ID).WriteString(")")
		}))
	}
}

// last returns the position of the newest event numbered below ord.
func last(ctx context.Context, q *ent.EventQuery, ord int64) (Cursor, error) {
	e, err := q.Where(event.OrdLT(ord)).Order(ent.Desc(event.FieldOrd), ent.Desc(event.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, err
	}
	return CursorOf(e), nil
}

func (h *Hub) head(ctx context.Context) (Cursor, error) {
	hz, err := settledHorizon(ctx, h.db)
	if err != nil {
		return Cursor{}, err
	}
	return last(viewer.SystemContext(ctx), h.client.Event.Query(), hz.below(never))
}

func (h *Hub) maxHold() time.Duration {
	if h.MaxHold > 0 {
		return h.MaxHold
	}
	return DefaultMaxHold
}

// poll delivers the events after the cursor that are complete, and the
// late ones whose transaction ended, and reports whether events may wait
// behind a transaction that is committing.
func (h *Hub) poll(ctx context.Context) (held bool, err error) {
	ctx = viewer.SystemContext(ctx)
	hz, err := readHorizon(ctx, h.db)
	if err != nil || hz.unsettled {
		return hz.unsettled, err
	}
	h.mu.Lock()
	from := h.last
	h.mu.Unlock()

	// A number committing for longer than the bound no longer holds the
	// others back: the cursor may pass it, and its events then go out
	// when its transaction ends.
	now := time.Now()
	committing := make(map[int64]bool, len(hz.inflight))
	var overdue []int64
	for _, o := range hz.inflight {
		committing[o] = true
		if h.late[o] {
			continue
		}
		if o < from.Ord {
			// Passed without being noticed, which the horizon rules out;
			// delivered late rather than holding everything back.
			h.late[o] = true
			continue
		}
		first, ok := h.since[o]
		if !ok {
			h.since[o] = now
			first = now
		}
		if now.Sub(first) >= h.maxHold() {
			overdue = append(overdue, o)
		} else {
			held = true
		}
	}
	for o := range h.since {
		if !committing[o] {
			delete(h.since, o)
		}
	}
	var ended []int64
	for o := range h.late {
		if !committing[o] {
			ended = append(ended, o)
		}
	}
	if len(ended) > 0 {
		evs, err := h.client.Event.Query().Where(event.OrdIn(ended...)).
			Order(ent.Asc(event.FieldOrd), ent.Asc(event.FieldID)).All(ctx)
		if err != nil {
			return held, err
		}
		for _, o := range ended {
			delete(h.late, o)
		}
		h.deliver(evs, false)
	}

	below := hz.below(func(o int64) bool { return h.late[o] || slices.Contains(overdue, o) })
	for {
		q := h.client.Event.Query().Where(after(from), event.OrdLT(below))
		if len(overdue) > 0 {
			// Not even if it ended meanwhile: its events are then
			// delivered as late ones, once.
			q.Where(event.OrdNotIn(overdue...))
		}
		evs, err := q.Order(ent.Asc(event.FieldOrd), ent.Asc(event.FieldID)).Limit(pollBatch).All(ctx)
		if err != nil {
			return held, err
		}
		from = h.deliver(evs, true)
		if len(evs) < pollBatch {
			break
		}
	}
	for _, o := range overdue {
		if o < from.Ord {
			h.late[o] = true
		}
	}
	return held, nil
}

// deliver hands evs to their subscriptions, moving the cursor with them
// unless they are late ones, and returns the cursor.
func (h *Hub) deliver(evs []*ent.Event, advance bool) Cursor {
	// Who gets which event is settled under the lock, together with the
	// cursor, so that a subscription registered meanwhile either gets an
	// event here or finds it in its snapshot. The deliveries run outside
	// the lock: the first one of an event loads it from the database, and
	// a subscriber that gives up unsubscribes.
	targets := make([][]Subscriber, len(evs))
	h.mu.Lock()
	for i, e := range evs {
		targets[i] = h.targetsLocked(e)
		if advance {
			h.last = CursorOf(e)
		}
	}
	cur := h.last
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
	return cur
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

// Receiving returns how many subscriptions stand past their starting
// position: every event committed from now on reaches each of them. A
// subscription is registered (Subscribers) a moment before that, while it
// reads where it starts.
func (h *Hub) Receiving() int { return int(h.receiving.Load()) }

// Position is where a new subscription stands: every event visible when
// it subscribed. Events the hub has not yet delivered are either after
// Safe, or visible but numbered at or after a transaction that was still
// committing, and those of the subscription's key are listed in Seen.
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
	// The horizon is read before the snapshot is taken, so that every
	// event numbered below it is in the snapshot; and after the caller
	// registered its subscriber (a shared read started after this call).
	hz, err := h.horizons.Get(ctx)
	if err != nil {
		return Position{}, nil, err
	}
	below := hz.below(never)
	tx, err := h.client.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return Position{}, nil, err
	}
	defer tx.Rollback() //nolint:errcheck
	var pos Position
	if pos.Safe, err = last(ctx, tx.Event.Query(), below); err != nil {
		return Position{}, nil, err
	}
	young, err := tx.Event.Query().Where(ofKey(k), event.OrdGTE(below)).IDs(ctx)
	if err != nil {
		return Position{}, nil, err
	}
	if len(young) > 0 {
		// Most positions see nothing in flight; they keep no map.
		pos.Seen = make(map[int]bool, len(young))
		for _, id := range young {
			pos.Seen[id] = true
		}
	}
	if from == nil {
		return pos, nil, nil
	}
	missed, err := tx.Event.Query().Where(ofKey(k), after(*from), event.CreatedAtGT(time.Now().Add(-ReplayWindow))).
		Order(ent.Asc(event.FieldOrd), ent.Asc(event.FieldID)).Limit(MaxReplay + 1).All(ctx)
	return pos, missed, err
}

// ofKey keeps the events the subscriptions of k receive.
func ofKey(k Key) predicate.Event {
	if k.Role == viewer.Doctor {
		return event.DoctorID(k.ID)
	}
	return event.PatientID(k.ID)
}

// ReplayWindow and MaxReplay bound what a reconnecting client can ask
// for (a client that missed more is told to refetch); events older than
// ReplayWindow are deleted.
const (
	ReplayWindow = 24 * time.Hour
	MaxReplay    = 100
)
