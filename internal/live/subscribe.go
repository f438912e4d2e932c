package live

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
	"github.com/healthmed/healthmed/internal/wsgorilla"
)

// Service resolves the subscriptions.
type Service struct {
	Hub    *Hub
	Client *ent.Client
	Log    *slog.Logger
	// Positions, when set, resumes a sign-in's resubscription where the
	// subscription it replaces left off.
	Positions *Positions

	once   sync.Once
	agenda *memo[memoKey, *AgendaEvent]
	appts  *memo[memoKey, *ent.Appointment]
}

// memoKey is one event as seen by one viewer.
type memoKey struct {
	event int
	key   Key
}

// memoTTL outlives the fan-out of one event, and nothing longer: a
// subscriber must never see a stale state of a later event.
const memoTTL = 10 * time.Second

func (s *Service) init() {
	s.once.Do(func() {
		s.agenda = newMemo[memoKey, *AgendaEvent](memoTTL)
		s.appts = newMemo[memoKey, *ent.Appointment](memoTTL)
	})
}

// AgendaUpdated streams the signed-in doctor's agenda changes.
func (s *Service) AgendaUpdated(ctx context.Context, after *int) (<-chan *AgendaEvent, error) {
	v := viewer.FromContext(ctx)
	s.init()
	k := Key{Role: viewer.Doctor, ID: v.ID}
	return stream(ctx, s, k, "agendaUpdated", after, func(ctx context.Context, e *ent.Event) (*AgendaEvent, bool, error) {
		// Shared with the viewer's other subscriptions: one leaving must
		// not cancel the load for the rest.
		return s.agenda.get(memoKey{e.ID, k}, func() (*AgendaEvent, bool, error) {
			return s.agendaEvent(context.WithoutCancel(ctx), e)
		})
	})
}

func (s *Service) agendaEvent(ctx context.Context, e *ent.Event) (*AgendaEvent, bool, error) {
	if e.Kind == event.KindWAITLIST_OFFERED {
		// The patient's alone: a doctor does not see who waits.
		return nil, false, nil
	}
	out := &AgendaEvent{ID: e.ID, Kind: e.Kind, At: e.CreatedAt, SlotID: e.SlotID}
	if e.AppointmentID != nil {
		// Loaded as the subscriber: the privacy policy has the last
		// word on what reaches them.
		a, err := s.Client.Appointment.Get(ctx, *e.AppointmentID)
		if ent.IsNotFound(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		out.Appointment = a
	}
	if e.SlotID != nil {
		sl, err := s.Client.Slot.Query().Where(slot.ID(*e.SlotID), slot.DeletedAtIsNil()).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, false, err
		}
		out.Slot = sl
	}
	return out, true, nil
}

// AppointmentUpdated streams the changes of the signed-in patient's
// appointments, or of the one given.
func (s *Service) AppointmentUpdated(ctx context.Context, id *int, after *int) (<-chan *ent.Appointment, error) {
	v := viewer.FromContext(ctx)
	if id != nil {
		ok, err := s.Client.Appointment.Query().Where(appointment.ID(*id)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, gqlerr.NotFoundError("appointment")
		}
	}
	s.init()
	k := Key{Role: viewer.Patient, ID: v.ID}
	name := "appointmentUpdated"
	if id != nil {
		name += ":" + strconv.Itoa(*id)
	}
	return stream(ctx, s, k, name, after, func(ctx context.Context, e *ent.Event) (*ent.Appointment, bool, error) {
		if e.AppointmentID == nil || (id != nil && *e.AppointmentID != *id) {
			return nil, false, nil
		}
		return s.appts.get(memoKey{e.ID, k}, func() (*ent.Appointment, bool, error) {
			a, err := s.Client.Appointment.Get(context.WithoutCancel(ctx), *e.AppointmentID)
			if ent.IsNotFound(err) {
				return nil, false, nil
			}
			return a, err == nil, err
		})
	})
}

// LastEventID is Appointment.lastEventId.
func (s *Service) LastEventID(ctx context.Context, a *ent.Appointment) (*int, error) {
	id, err := s.Client.Event.Query().Where(event.AppointmentID(a.ID)).
		Order(ent.Desc(event.FieldOrd), ent.Desc(event.FieldID)).FirstID(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return &id, err
}

// stream replays what the client missed, then forwards live events until
// the client leaves or the server stops. It starts no goroutine (see
// Subscriber): the hub hands each event to a feed, which converts it and
// queues it for gqlgen, and the context ends it. The socket's identity is
// the socket's business: it closes when the token expires or its sign-in
// ends (server.sockets), which ends the context.
//
// Without after, a subscription that the same sign-in held under the same
// name and that ended a moment ago is resumed where it stood (Positions).
func stream[T any](ctx context.Context, s *Service, k Key, name string, afterID *int,
	conv func(context.Context, *ent.Event) (T, bool, error)) (<-chan T, error) {
	family := viewer.FromContext(ctx).SessionID
	if afterID == nil {
		id, ok, err := s.Positions.Recall(ctx, family, name)
		if err != nil {
			return nil, err
		}
		if ok {
			afterID = &id
		}
	}
	var from *Cursor
	if afterID != nil {
		c, err := resumeFrom(ctx, s.Client, k, *afterID)
		if err != nil {
			return nil, err
		}
		from = &c
	}
	f := &feed[T]{ctx: ctx, hub: s.Hub, key: k, conv: conv, log: s.Log,
		positions: s.Positions, family: family, name: name}
	if from != nil {
		f.resumedFrom = *afterID
	}
	if err := s.Hub.Subscribe(k, f); err != nil {
		return nil, err
	}
	// The position is read after registering, so nothing falls between:
	// what the hub delivers that was already visible then (it may lag a
	// little) is skipped, and comes from the replay when asked for.
	pos, replay, err := s.Hub.Snapshot(ctx, k, from)
	if err == nil && len(replay) > MaxReplay {
		err = refetch(fmt.Sprintf("more than %d events were missed", MaxReplay))
	}
	if err != nil {
		f.end("", "")
		return nil, err
	}
	f.start(pos, replay)
	f.watch()
	return shareStream(ctx, f.out), nil
}

// feed is one subscription between the hub and gqlgen.
type feed[T any] struct {
	ctx  context.Context
	hub  *Hub
	key  Key
	conv func(context.Context, *ent.Event) (T, bool, error)
	log  *slog.Logger

	mu sync.Mutex
	// out is what gqlgen reads; nil until start, closed by end. Every
	// send is made under mu and never blocks.
	out chan T
	pos Position
	// pending holds what the hub delivered before the position was known.
	pending []*ent.Event
	ended   bool
	stopCtx func() bool

	positions   *Positions
	family      string
	name        string
	resumedFrom int
	// queued are the ids of the last events put on out, oldest first, one
	// more than out holds: those still in out when the feed ends never
	// reached the client, and the one before them is where a
	// resubscription resumes.
	queued []int
}

var _ Subscriber = (*feed[int])(nil)

// start queues the replay and what arrived meanwhile, then lets the hub's
// deliveries through. The channel is made large enough for the catch-up,
// so that it never waits for gqlgen.
func (f *feed[T]) start(pos Position, replay []*ent.Event) {
	var queued []T
	var ids []int
	add := func(e *ent.Event) {
		if v, ok := f.convert(e); ok {
			queued = append(queued, v)
			ids = append(ids, e.ID)
		}
	}
	for _, e := range replay {
		add(e)
	}
	for {
		f.mu.Lock()
		batch := f.pending
		f.pending = nil
		if len(batch) == 0 || f.ended {
			f.pos = pos
			f.out = make(chan T, len(queued)+subBuffer)
			for i, v := range queued {
				f.out <- v
				f.track(ids[i])
			}
			if f.ended {
				close(f.out)
			} else {
				f.hub.receiving.Add(1)
			}
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		for _, e := range batch {
			if !pos.Delivered(e) {
				add(e)
			}
		}
	}
}

// watch ends the subscription when the client leaves.
func (f *feed[T]) watch() {
	stopCtx := context.AfterFunc(f.ctx, func() { f.end("", "") })
	f.mu.Lock()
	ended := f.ended
	f.stopCtx = stopCtx
	f.mu.Unlock()
	if ended {
		stopCtx()
	}
}

// Deliver implements Subscriber.
func (f *feed[T]) Deliver(e *ent.Event) bool {
	f.mu.Lock()
	switch {
	case f.ended:
		f.mu.Unlock()
		return true
	case f.out == nil:
		if len(f.pending) >= maxPending {
			f.mu.Unlock()
			f.tooSlow()
			return false
		}
		f.pending = append(f.pending, e)
		f.mu.Unlock()
		return true
	case f.pos.Delivered(e):
		f.mu.Unlock()
		return true
	}
	f.mu.Unlock()
	// Converting may load from the database (once per event and viewer,
	// see memo), so it runs outside the lock; the hub's goroutine is the
	// only one delivering, which keeps the order.
	v, ok := f.convert(e)
	if !ok {
		return true
	}
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return true
	}
	select {
	case f.out <- v:
		f.track(e.ID)
		f.mu.Unlock()
		return true
	default:
		f.mu.Unlock()
		f.tooSlow()
		return false
	}
}

// tooSlow ends a subscription whose client does not take its events as
// fast as they come. Its socket is what is slow, so the socket closes with
// 1013 (try again later), on which standard clients reconnect; the
// resubscription resumes after what was handed over, or asks for a
// refetch when it missed too much. An error message would end it for good.
func (f *feed[T]) tooSlow() {
	if !wsgorilla.CloseSocket(f.ctx, wsgorilla.CloseTryAgainLater, "too slow: reconnect") {
		f.end(gqlerr.Internal, "subscription dropped: too slow")
		return
	}
	f.end("", "")
}

// Stop implements Subscriber: the server is stopping. The socket closes
// with a code clients reconnect on, before the subscription ends: a
// complete would tell them it is over for good.
func (f *feed[T]) Stop(error) {
	wsgorilla.CloseSocket(f.ctx, wsgorilla.CloseServiceRestart, "server restarting")
	f.end("", "")
}

func (f *feed[T]) convert(e *ent.Event) (T, bool) {
	v, ok, err := f.conv(f.ctx, e)
	if err != nil {
		f.log.ErrorContext(f.ctx, "subscription event", "err", err.Error(), "event", e.ID)
		return v, false
	}
	return v, ok
}

// end closes the subscription once, with an error for the client when code
// is set, and releases what watches it.
func (f *feed[T]) end(code, msg string) {
	f.mu.Lock()
	if f.ended {
		f.mu.Unlock()
		return
	}
	f.ended = true
	if code != "" {
		endWith(f.ctx, code, msg)
	}
	last := f.lastQueued()
	if f.out != nil {
		// A slow subscriber's end is final to standard clients: it gets
		// what was queued before its error. Otherwise what gqlgen has not
		// taken yet is left for the resubscription's replay: sent now as
		// well, it would arrive twice.
		if code != gqlerr.Internal && f.positions != nil && f.family != "" {
			last = f.handedOver()
			for len(f.out) > 0 {
				<-f.out
			}
		}
	}
	out, stopCtx := f.out, f.stopCtx
	f.mu.Unlock()
	// Out of the hub, and the position remembered, before the channel
	// closes: whoever sees the end of the stream (a test, or a client
	// resubscribing at once) finds the hub without it and its position
	// kept. Deliver, seeing ended, never sends on the closed channel.
	f.hub.Unsubscribe(f.key, f)
	f.positions.Remember(f.family, f.name, last)
	if out != nil {
		f.hub.receiving.Add(-1)
		close(out)
	}
	if stopCtx != nil {
		stopCtx()
	}
}

// track notes that event id was put on out; f.mu is held.
func (f *feed[T]) track(id int) {
	if f.positions == nil || f.family == "" {
		return
	}
	f.queued = append(f.queued, id)
	if len(f.queued) > cap(f.out)+1 {
		f.queued = f.queued[len(f.queued)-cap(f.out)-1:]
	}
}

// lastQueued is the last event put on out, or where the feed resumed
// from; f.mu is held.
func (f *feed[T]) lastQueued() int {
	if len(f.queued) == 0 {
		return f.resumedFrom
	}
	return f.queued[len(f.queued)-1]
}

// handedOver is the last event gqlgen took from out, or where the feed
// resumed from; f.mu is held, before out is closed.
func (f *feed[T]) handedOver() int {
	if f.out == nil {
		return f.resumedFrom
	}
	if n := len(f.queued) - len(f.out); n > 0 {
		return f.queued[n-1]
	}
	return f.resumedFrom
}

// resumeFrom returns the position of the event a client last received.
// An id older than every event kept was pruned with the events older than
// ReplayWindow: the client then gets the whole window again.
func resumeFrom(ctx context.Context, c *ent.Client, k Key, id int) (Cursor, error) {
	ctx = viewer.SystemContext(ctx)
	e, err := c.Event.Get(ctx, id)
	if err == nil && belongs(e, k) {
		if e.CreatedAt.Before(time.Now().Add(-ReplayWindow)) {
			return Cursor{}, refetch("the event given as after is too old to resume from")
		}
		return CursorOf(e), nil
	}
	if err != nil && !ent.IsNotFound(err) {
		return Cursor{}, err
	}
	if err != nil {
		// Ids only grow: one below the oldest kept event was pruned, and
		// what came after it may be gone too.
		oldest, err := c.Event.Query().Order(ent.Asc(event.FieldID)).FirstID(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return Cursor{}, err
		}
		if id > 0 && (ent.IsNotFound(err) || id < oldest) {
			return Cursor{}, refetch("the event given as after is too old to resume from")
		}
	}
	return Cursor{}, gqlerr.BadInput("after", "unknown event id")
}

// maxPending bounds what the hub may deliver to a subscription that is
// still reading its position.
const maxPending = 1000

// refetch refuses a resume that would replay too much: the client is
// better served by reading the current state again and subscribing
// afresh, without after.
func refetch(why string) error {
	return gqlerr.ConflictError(gqlerr.ReasonRefetch, why+"; refetch the current state and subscribe without after")
}

func belongs(e *ent.Event, k Key) bool {
	if k.Role == viewer.Doctor {
		return e.DoctorID == k.ID
	}
	return e.PatientID != nil && *e.PatientID == k.ID
}

// endWith makes the websocket transport end the subscription with an
// error message instead of a normal complete (not over a websocket, there
// is nothing to end).
func endWith(ctx context.Context, code, msg string) {
	wsgorilla.EndWithError(ctx, &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}})
}
