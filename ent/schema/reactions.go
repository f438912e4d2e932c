package schema

import (
	"context"
	"errors"

	"entgo.io/ent"

	gen "github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/hook"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/viewer"
)

// The reactions of the schema's Hooks run after the write, inside the
// writer's transaction (the mutation's client is bound to it), as the
// writer: privacy has already allowed the write. What must wait for the
// commit uses txn.AfterCommit, which finds the transaction in the
// context each reaction is given. Outside a transaction every write is
// its own, and so is every consequence.

// appointmentReaction is one consequence of an appointment's move.
type appointmentReaction func(ctx context.Context, c *gen.Client, kind event.Kind, a *gen.Appointment) error

// moves names each move of the status machine by its event: a booking
// (created REQUESTED) and each status it can go to.
var moves = map[appointment.Status]event.Kind{
	appointment.StatusREQUESTED: event.KindBOOKING_REQUESTED,
	appointment.StatusACCEPTED:  event.KindBOOKING_ACCEPTED,
	appointment.StatusREJECTED:  event.KindBOOKING_REJECTED,
	appointment.StatusCANCELLED: event.KindBOOKING_CANCELLED,
	appointment.StatusCOMPLETED: event.KindBOOKING_COMPLETED,
}

var errBulkStatus = errors.New("appointments change status one at a time (UpdateOne): each move has its consequences")

// onMoves runs the reactions, in order, after a booking or a change of
// an appointment's status. An appointment created in any other status
// is a record of the past written directly (an import, a fixture): it
// moved nowhere, so nothing reacts. A change that keeps the status is
// no move either.
func onMoves(reactions ...appointmentReaction) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return hook.AppointmentFunc(func(ctx context.Context, m *gen.AppointmentMutation) (ent.Value, error) {
			to, moving := m.Status()
			switch {
			case m.Op().Is(ent.OpCreate):
				moving = !moving || to == appointment.StatusREQUESTED
			case !moving:
			case m.Op().Is(ent.OpUpdate):
				return nil, errBulkStatus
			case m.Op().Is(ent.OpUpdateOne):
				from, err := m.OldStatus(viewer.SystemContext(ctx))
				if err != nil {
					// Not there, or not to be seen: the update says so.
					return next.Mutate(ctx, m)
				}
				moving = from != to
			default:
				moving = false
			}
			v, err := next.Mutate(ctx, m)
			if err != nil || !moving {
				return v, err
			}
			a, ok := v.(*gen.Appointment)
			if !ok {
				return v, nil
			}
			ctx, c := written(ctx, m)
			for _, react := range reactions {
				if err := react(ctx, c, moves[a.Status], a); err != nil {
					return nil, err
				}
			}
			return a, nil
		})
	}
}

// on narrows a reaction to one move.
func on(kind event.Kind, react func(ctx context.Context, c *gen.Client, a *gen.Appointment) error) appointmentReaction {
	return func(ctx context.Context, c *gen.Client, k event.Kind, a *gen.Appointment) error {
		if k != kind {
			return nil
		}
		return react(ctx, c, a)
	}
}

// slotReaction is one consequence of a slot opened, moved or withdrawn.
type slotReaction func(ctx context.Context, c *gen.Client, kind event.Kind, doctorID, slotID int) error

// onSlotChanges runs the reactions after slots are created, moved
// (starts_at or ends_at), withdrawn (deleted_at) or deleted, one call
// per slot, bulk writes included.
func onSlotChanges(reactions ...slotReaction) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return hook.SlotFunc(func(ctx context.Context, m *gen.SlotMutation) (ent.Value, error) {
			var kind event.Kind
			_, withdrawn := m.DeletedAt()
			_, start := m.StartsAt()
			_, end := m.EndsAt()
			switch {
			case m.Op().Is(ent.OpCreate):
				kind = event.KindSLOT_CREATED
			case m.Op().Is(ent.OpDelete|ent.OpDeleteOne) || withdrawn:
				kind = event.KindSLOT_DELETED
			case start || end:
				kind = event.KindSLOT_UPDATED
			default:
				return next.Mutate(ctx, m)
			}
			// Which slots, and whose: read before a delete takes them. A
			// single create or update returns its slot.
			var slots []*gen.Slot
			if m.Op().Is(ent.OpUpdate | ent.OpDelete | ent.OpDeleteOne) {
				sys := viewer.SystemContext(ctx)
				ids, err := m.IDs(sys)
				if err != nil {
					return nil, err
				}
				if slots, err = m.Client().Slot.Query().Where(slot.IDIn(ids...)).
					Select(slot.FieldID, slot.FieldDoctorID).All(sys); err != nil {
					return nil, err
				}
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			if sl, ok := v.(*gen.Slot); ok {
				slots = []*gen.Slot{sl}
			}
			ctx, c := written(ctx, m)
			for _, sl := range slots {
				for _, react := range reactions {
					if err := react(ctx, c, kind, sl.DoctorID, sl.ID); err != nil {
						return nil, err
					}
				}
			}
			return v, nil
		})
	}
}

var errBulkRevoke = errors.New("shares are revoked one at a time (UpdateOne): each doctor is told")

// onShareChanges runs the reactions after a share is made, or revoked
// (revoked_at set on a share that had none).
func onShareChanges(reactions ...func(ctx context.Context, c *gen.Client, sh *gen.RecordShare, revoked bool) error) ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return hook.RecordShareFunc(func(ctx context.Context, m *gen.RecordShareMutation) (ent.Value, error) {
			_, revoking := m.RevokedAt()
			switch {
			case m.Op().Is(ent.OpCreate):
			case !revoking:
				return next.Mutate(ctx, m)
			case m.Op().Is(ent.OpUpdate):
				return nil, errBulkRevoke
			case m.Op().Is(ent.OpUpdateOne):
				was, err := m.OldRevokedAt(viewer.SystemContext(ctx))
				if err != nil || was != nil {
					return next.Mutate(ctx, m)
				}
			}
			v, err := next.Mutate(ctx, m)
			sh, ok := v.(*gen.RecordShare)
			if err != nil || !ok {
				return v, err
			}
			ctx, c := written(ctx, m)
			for _, react := range reactions {
				if err := react(ctx, c, sh, revoking); err != nil {
					return nil, err
				}
			}
			return sh, nil
		})
	}
}

// onRecordFilesRead hands the ids of the record files a query returned
// to the record's access log.
func onRecordFilesRead() ent.Interceptor {
	return onRead(func(f *gen.RecordFile) int { return f.ID },
		func(ctx context.Context, q *gen.RecordFileQuery, ids []int) error {
			return q.Reactions.RecordsViewed(ctx, ids)
		})
}

// onAppointmentsRead hands the ids of the appointments a query returned
// to the response's batched look-ups of their invoices and coverage
// checks, which then read them all at the first field that asks.
func onAppointmentsRead() ent.Interceptor {
	return onRead(func(a *gen.Appointment) int { return a.ID },
		func(ctx context.Context, q *gen.AppointmentQuery, ids []int) error {
			q.Reactions.ReadAppointments(ctx, ids)
			return nil
		})
}

// onSlotsRead hands the ids of the slots a query returned to the
// response's batched look-up of whether each is taken (Slot.free).
func onSlotsRead() ent.Interceptor {
	return onRead(func(s *gen.Slot) int { return s.ID },
		func(ctx context.Context, q *gen.SlotQuery, ids []int) error {
			q.Reactions.ReadSlots(ctx, ids)
			return nil
		})
}

// onRead runs react on the ids of the rows V that a query Q returned,
// whichever path the query took (a page, node, an edge); the query fails
// if react does.
func onRead[V any, Q ent.Query](id func(V) int, react func(context.Context, Q, []int) error) ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			value, err := next.Query(ctx, q)
			rows, ok := value.([]V)
			typed, isQ := q.(Q)
			if err != nil || !ok || !isQ || len(rows) == 0 {
				return value, err
			}
			ids := make([]int, len(rows))
			for i, r := range rows {
				ids[i] = id(r)
			}
			if err := react(ctx, typed, ids); err != nil {
				return nil, err
			}
			return value, nil
		})
	})
}

// onCreated runs the reactions after an entity is created, bulk creates
// included, on the entity created; V is the schema's generated type.
func onCreated[V any](reactions ...func(ctx context.Context, c *gen.Client, v V) error) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			created, ok := v.(V)
			wm, isWritten := m.(mutation)
			if err != nil || !ok || !isWritten {
				return v, err
			}
			if err := reactEach(ctx, wm, []V{created}, reactions...); err != nil {
				return nil, err
			}
			return v, nil
		})
	}, ent.OpCreate)
}

// touching is a mutation that names, before it runs, the rows it will
// touch.
type touching interface {
	ent.Mutation
	mutation
	IDs(context.Context) ([]int, error)
}

// readWriteReact reads, as the system and before the write, what the
// reactions need of the rows the write will touch (read is given their
// ids; a bulk write names them by its predicates), then writes, then
// runs the reactions on each item read.
func readWriteReact[T any](ctx context.Context, next ent.Mutator, m touching, read func(sys context.Context, ids []int) ([]T, error),
	reactions ...func(context.Context, *gen.Client, T) error) (ent.Value, error) {
	sys := viewer.SystemContext(ctx)
	ids, err := m.IDs(sys)
	if err != nil {
		return nil, err
	}
	var items []T
	if len(ids) > 0 {
		if items, err = read(sys, ids); err != nil {
			return nil, err
		}
	}
	v, err := next.Mutate(ctx, m)
	if err != nil || len(items) == 0 {
		return v, err
	}
	if err := reactEach(ctx, m, items, reactions...); err != nil {
		return nil, err
	}
	return v, nil
}

// reactEach runs the reactions, in order, on each item a write by m
// touched, in m's transaction.
func reactEach[T any](ctx context.Context, m mutation, items []T, reactions ...func(context.Context, *gen.Client, T) error) error {
	ctx, c := written(ctx, m)
	for _, it := range items {
		for _, react := range reactions {
			if err := react(ctx, c, it); err != nil {
				return err
			}
		}
	}
	return nil
}

// mutation is what written needs of any entity's mutation.
type mutation interface {
	Client() *gen.Client
	Tx() (*gen.Tx, error)
}

// written is the client of the mutation's transaction (or its plain
// client outside one), and ctx naming that transaction, so what a
// reaction defers to the commit waits for the writer's commit.
func written(ctx context.Context, m mutation) (context.Context, *gen.Client) {
	tx, err := m.Tx()
	if err != nil {
		tx = nil
	}
	return gen.NewTxContext(ctx, tx), m.Client()
}
