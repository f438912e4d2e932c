package live

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/graph/model"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Service resolves the subscriptions.
type Service struct {
	Hub    *Hub
	Client *ent.Client
	Log    *slog.Logger

	once   sync.Once
	agenda *memo[memoKey, *model.AgendaEvent]
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
		s.agenda = newMemo[memoKey, *model.AgendaEvent](memoTTL)
		s.appts = newMemo[memoKey, *ent.Appointment](memoTTL)
	})
}

// AgendaUpdated streams the signed-in doctor's agenda changes.
func (s *Service) AgendaUpdated(ctx context.Context, after *int) (<-chan *model.AgendaEvent, error) {
	v := viewer.FromContext(ctx)
	if !v.IsDoctor() {
		return nil, roleError(v, "only doctors have an agenda")
	}
	s.init()
	k := Key{Role: viewer.Doctor, ID: v.ID}
	return stream(ctx, s, k, after, func(ctx context.Context, e *ent.Event) (*model.AgendaEvent, bool, error) {
		// Shared with the viewer's other subscriptions: one leaving must
		// not cancel the load for the rest.
		return s.agenda.get(memoKey{e.ID, k}, func() (*model.AgendaEvent, bool, error) {
			return s.agendaEvent(context.WithoutCancel(ctx), e)
		})
	})
}

func (s *Service) agendaEvent(ctx context.Context, e *ent.Event) (*model.AgendaEvent, bool, error) {
	out := &model.AgendaEvent{ID: e.ID, Kind: e.Kind, At: e.CreatedAt}
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
	if !v.IsPatient() {
		return nil, roleError(v, "appointmentUpdated is for patients; doctors use agendaUpdated")
	}
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
	return stream(ctx, s, k, after, func(ctx context.Context, e *ent.Event) (*ent.Appointment, bool, error) {
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
		Order(ent.Desc(event.FieldTxid), ent.Desc(event.FieldID)).FirstID(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return &id, err
}

func roleError(v viewer.Viewer, msg string) error {
	if v.Role == viewer.Anonymous {
		return gqlerr.UnauthenticatedError()
	}
	return gqlerr.ForbiddenError(msg)
}

// stream replays what the client missed, then forwards live events until
// the client leaves, the token expires, or the server stops.
func stream[T any](ctx context.Context, s *Service, k Key, afterID *int,
	conv func(context.Context, *ent.Event) (T, bool, error)) (<-chan T, error) {
	var from *Cursor
	if afterID != nil {
		e, err := s.Client.Event.Get(viewer.SystemContext(ctx), *afterID)
		if err != nil || !belongs(e, k) {
			if err != nil && !ent.IsNotFound(err) {
				return nil, err
			}
			return nil, gqlerr.BadInput("after", "unknown event id")
		}
		c := CursorOf(e)
		from = &c
	}
	sub, err := s.Hub.Subscribe(k)
	if err != nil {
		return nil, err
	}
	// The position is read after registering, so nothing falls between:
	// what the hub delivers that was already visible then (it may lag a
	// little) is skipped, and comes from the replay when asked for.
	pos, replay, err := s.Hub.Snapshot(ctx, k, from)
	if err != nil {
		s.Hub.Unsubscribe(sub)
		return nil, err
	}
	out := make(chan T, 1)
	go func() {
		defer close(out)
		defer s.Hub.Unsubscribe(sub)
		var expired <-chan time.Time
		if exp := viewer.FromContext(ctx).ExpiresAt; !exp.IsZero() {
			t := time.NewTimer(time.Until(exp))
			defer t.Stop()
			expired = t.C
		}
		send := func(e *ent.Event) bool {
			v, ok, err := conv(ctx, e)
			if err != nil {
				s.Log.ErrorContext(ctx, "subscription event", "err", err.Error(), "event", e.ID)
				return true
			}
			if !ok {
				return true
			}
			select {
			case out <- v:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, e := range replay {
			if !send(e) {
				return
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-expired:
				endWith(ctx, gqlerr.Unauthenticated, "token expired")
				return
			case e, ok := <-sub.C:
				if !ok {
					if sub.Err == ErrSlowConsumer {
						endWith(ctx, gqlerr.Internal, "subscription dropped: too slow")
					}
					return
				}
				if pos.Delivered(e) {
					continue
				}
				if !send(e) {
					return
				}
			}
		}
	}()
	return out, nil
}

func belongs(e *ent.Event, k Key) bool {
	if k.Role == viewer.Doctor {
		return e.DoctorID == k.ID
	}
	return e.PatientID != nil && *e.PatientID == k.ID
}

// endWith makes the websocket transport end the subscription with an
// error message instead of a normal complete.
func endWith(ctx context.Context, code, msg string) {
	defer func() { _ = recover() }() // not over a websocket: nothing to add the error to
	transport.AddSubscriptionError(ctx, &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}})
}
