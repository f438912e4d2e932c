package agenda

import (
	"context"
	"fmt"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/loader"
)

const (
	loaderWait  = 2 * time.Millisecond
	loaderBatch = 200
)

// Loaders batch the agenda reads of one GraphQL response, so a page of
// doctors with their slots costs one query per field, not one per doctor.
type Loaders struct {
	s     *Service
	mu    sync.Mutex
	slots map[slotArgs]*loader.Loader[int, []*ent.Slot]
	next  *loader.Loader[int, *ent.Slot]
	taken *loader.Loader[int, bool]
}

type slotArgs struct {
	from, to time.Time
	onlyFree bool
}

type loadersKey struct{}

// WithLoaders gives ctx a fresh set of loaders.
func (s *Service) WithLoaders(ctx context.Context) context.Context {
	l := &Loaders{s: s, slots: map[slotArgs]*loader.Loader[int, []*ent.Slot]{}}
	l.next = loader.New(l.fetchNextFree, loaderWait, loaderBatch)
	l.taken = loader.New(l.fetchTaken, loaderWait, loaderBatch)
	return context.WithValue(ctx, loadersKey{}, l)
}

func (s *Service) loaders(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	return s.WithLoaders(ctx).Value(loadersKey{}).(*Loaders)
}

func free() func(*sql.Selector) {
	return slot.Not(slot.HasAppointmentsWith(appointment.StatusIn(ActiveStatuses...)))
}

// DoctorSlots is Doctor.slots.
func (s *Service) DoctorSlots(ctx context.Context, doctorID int, from, to *time.Time, onlyFree *bool) ([]*ent.Slot, error) {
	f, t, err := s.SlotRange(from, to)
	if err != nil {
		return nil, err
	}
	args := slotArgs{from: f, to: t, onlyFree: onlyFree != nil && *onlyFree}
	l := s.loaders(ctx)
	l.mu.Lock()
	ld, ok := l.slots[args]
	if !ok {
		ld = loader.New(func(ctx context.Context, ids []int) (map[int][]*ent.Slot, error) {
			q := s.Client.Slot.Query().Where(slot.DoctorIDIn(ids...), slot.DeletedAtIsNil(),
				slot.StartsAtGTE(args.from), slot.StartsAtLT(args.to))
			if args.onlyFree {
				q.Where(free())
			}
			all, err := q.Order(slot.ByStartsAt()).All(ctx)
			out := make(map[int][]*ent.Slot, len(ids))
			for _, id := range ids {
				out[id] = []*ent.Slot{}
			}
			for _, sl := range all {
				out[sl.DoctorID] = append(out[sl.DoctorID], sl)
			}
			return out, err
		}, loaderWait, loaderBatch)
		l.slots[args] = ld
	}
	l.mu.Unlock()
	return ld.Load(ctx, doctorID)
}

// NextFreeSlot is Doctor.nextFreeSlot.
func (s *Service) NextFreeSlot(ctx context.Context, doctorID int) (*ent.Slot, error) {
	return s.loaders(ctx).next.Load(ctx, doctorID)
}

// nextFreeSlotColumn is the column WithNextFreeSlot adds to a select on
// doctors.
const nextFreeSlotColumn = "next_free_slot"

// WithNextFreeSlot adds each doctor's next free slot to a select on
// doctors, as one column: the page and its slots in one statement, one
// trip to the pool. The subquery probes (doctor_id, starts_at) and stops
// at the first free slot; PostgreSQL evaluates it only for the rows the
// select returns (an index-ordered page reads no more). The slot comes as
// an array of integers (its id, then its times in microseconds since the
// epoch, exactly as stored): building and decoding JSON for it was about
// a twentieth of a search's CPU on either side.
func (s *Service) WithNextFreeSlot(sel *sql.Selector) {
	now := s.now()
	id := sel.C(doctor.FieldID)
	sel.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("(SELECT ARRAY[s.id, " + micros("s.created_at") + ", " + micros("s.updated_at") + ", " +
			micros("s.starts_at") + ", " + micros("s.ends_at") + "]" +
			" FROM slots s WHERE s.doctor_id = " + id + " AND s.deleted_at IS NULL AND s.starts_at > ").Arg(now).
			WriteString(" AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = s.id" +
				" AND a.status IN ('REQUESTED', 'ACCEPTED')) ORDER BY s.starts_at LIMIT 1)")
	}), nextFreeSlotColumn)
}

// micros is the SQL for a timestamp column in microseconds since the
// epoch (EXTRACT is exact: numeric).
func micros(col string) string {
	return "(EXTRACT(EPOCH FROM " + col + ") * 1000000)::bigint"
}

// PrimeNextFreeSlots gives the response's nextFreeSlot loader what
// WithNextFreeSlot read for doctors, so their nextFreeSlot fields answer
// without another statement.
func (s *Service) PrimeNextFreeSlots(ctx context.Context, doctors []*ent.Doctor) error {
	ids := make([]int, 0, len(doctors))
	vals := make(map[int]*ent.Slot, len(doctors))
	for _, d := range doctors {
		v, err := d.Value(nextFreeSlotColumn)
		if err != nil {
			return err
		}
		ids = append(ids, d.ID)
		if v == nil {
			continue // no free slot
		}
		var a pq.Int64Array
		if err := a.Scan(v); err != nil {
			return err
		}
		if len(a) != 5 {
			return fmt.Errorf("agenda: next free slot of doctor %d read as %d values", d.ID, len(a))
		}
		vals[d.ID] = s.Client.Slot.Attach(&ent.Slot{ID: int(a[0]), CreatedAt: time.UnixMicro(a[1]).UTC(),
			UpdatedAt: time.UnixMicro(a[2]).UTC(), DoctorID: d.ID, StartsAt: time.UnixMicro(a[3]).UTC(),
			EndsAt: time.UnixMicro(a[4]).UTC()})
	}
	s.loaders(ctx).next.Prime(ids, vals, nil)
	return nil
}

// SlotFree is Slot.free. It asks the slots table, not the appointments,
// so the answer does not depend on whose appointments the viewer may see.
func (s *Service) SlotFree(ctx context.Context, slotID int) (bool, error) {
	taken, err := s.loaders(ctx).taken.Load(ctx, slotID)
	return !taken, err
}

// SlotsRead names to the response's loader of Slot.free the slots a
// query has read, so their fields read them together (see
// loader.Loader.Expect). Without loaders in ctx it does nothing.
func (s *Service) SlotsRead(ctx context.Context, ids []int) {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		l.taken.Expect(ids)
	}
}

func (l *Loaders) fetchNextFree(ctx context.Context, ids []int) (map[int]*ent.Slot, error) {
	now := l.s.now()
	// One index probe per doctor on (doctor_id, starts_at), stopping at
	// the first free slot: the cost does not grow with how many slots a
	// doctor has opened, unlike DISTINCT ON over all of them (which the
	// planner also read through the overlap constraint's GiST index).
	ids64 := make([]int64, len(ids))
	for i, id := range ids {
		ids64[i] = int64(id)
	}
	all, err := l.s.Client.Slot.Query().Where(func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.WriteString(s.C(slot.FieldID)).
				WriteString(" IN (SELECT x.id FROM unnest(").Arg(pq.Array(ids64)).
				WriteString("::bigint[]) AS d(id) CROSS JOIN LATERAL (SELECT n.id FROM slots n" +
					" WHERE n.doctor_id = d.id AND n.deleted_at IS NULL AND n.starts_at > ").Arg(now).
				WriteString(" AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.slot_id = n.id" +
					" AND a.status IN ('REQUESTED', 'ACCEPTED')) ORDER BY n.starts_at LIMIT 1) x)")
		}))
	}).All(ctx)
	out := make(map[int]*ent.Slot, len(all))
	for _, sl := range all {
		out[sl.DoctorID] = sl
	}
	return out, err
}

func (l *Loaders) fetchTaken(ctx context.Context, ids []int) (map[int]bool, error) {
	taken, err := l.s.Client.Slot.Query().
		Where(slot.IDIn(ids...), slot.HasAppointmentsWith(appointment.StatusIn(ActiveStatuses...))).IDs(ctx)
	out := make(map[int]bool, len(taken))
	for _, id := range taken {
		out[id] = true
	}
	return out, err
}
