package agenda

import (
	"context"
	"fmt"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/viewer"
)

// ActiveStatuses hold a slot.
var ActiveStatuses = []appointment.Status{appointment.StatusREQUESTED, appointment.StatusACCEPTED}

// CreateSlots adds a batch of slots to the signed-in doctor's agenda: all
// of them or, on any invalid or overlapping one, none.
func (s *Service) CreateSlots(ctx context.Context, in []*SlotInput) ([]*ent.Slot, error) {
	v := viewer.FromContext(ctx)
	if len(in) == 0 || len(in) > MaxSlotsPerCall {
		return nil, gqlerr.BadInput("input", "give between 1 and %d slots", MaxSlotsPerCall)
	}
	now := s.now()
	builders := make([]*ent.SlotCreate, 0, len(in))
	for i, si := range in {
		if err := s.checkSlot(fmt.Sprintf("input[%d]", i), si, now); err != nil {
			return nil, err
		}
		builders = append(builders, s.db(ctx).Slot.Create().SetDoctorID(v.ID).
			SetStartsAt(si.StartsAt.UTC()).SetEndsAt(si.EndsAt.UTC()))
	}
	if err := s.lockAgenda(ctx, v.ID); err != nil {
		return nil, err
	}
	return s.db(ctx).Slot.CreateBulk(builders...).Save(ctx)
}

// agendaLock is the first key of the advisory locks that queue one
// doctor's slot writes.
const agendaLock = 1212503700

// lockAgenda queues the transaction behind the doctor's other slot writes
// until it ends. Without it, racing inserts of overlapping slots each add
// their row before checking the exclusion constraint, find each other's
// and wait for each other: PostgreSQL breaks the deadlock after a second
// by failing one of them as a retry. Queued, the later ones see the first
// one's slot and fail with SLOT_OVERLAP at once.
func (s *Service) lockAgenda(ctx context.Context, doctorID int) error {
	// Ids are global (beyond 32 bits); two doctors sharing a key would
	// only queue behind each other.
	_, err := s.db(ctx).ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, ($2::bigint % 2147483647)::int)`, agendaLock, doctorID)
	return err
}

func (s *Service) checkSlot(field string, si *SlotInput, now time.Time) error {
	switch d := si.EndsAt.Sub(si.StartsAt); {
	case d <= 0:
		return gqlerr.BadInput(field+".endsAt", "a slot ends after it starts")
	case d < MinSlotLength:
		return gqlerr.BadInput(field+".endsAt", "a slot lasts at least %s", MinSlotLength)
	case d > MaxSlotLength:
		return gqlerr.BadInput(field+".endsAt", "a slot lasts at most %s", MaxSlotLength)
	case !si.StartsAt.After(now):
		return gqlerr.BadInput(field+".startsAt", "a slot starts in the future")
	case si.StartsAt.After(s.horizon(now)):
		return gqlerr.BadInput(field+".startsAt", "a slot starts at most %d months ahead", s.horizonMonths())
	}
	return nil
}

// lockSlot reads a live slot and locks it against concurrent moves,
// withdrawals and bookings until the transaction ends.
func (s *Service) lockSlot(ctx context.Context, id int) (*ent.Slot, error) {
	sl, err := s.db(ctx).Slot.Query().
		Where(slot.ID(id), slot.DeletedAtIsNil()).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gqlerr.NotFoundError("slot")
	}
	return sl, err
}

func (s *Service) hasActiveAppointment(ctx context.Context, slotID int) (bool, error) {
	return s.db(ctx).Appointment.Query().
		Where(appointment.SlotID(slotID), appointment.StatusIn(ActiveStatuses...)).Exist(ctx)
}

// UpdateSlot moves one of the doctor's own free slots.
// Ownership is the privacy rule's: the UPDATE carries doctor_id = viewer.
func (s *Service) UpdateSlot(ctx context.Context, id int, in SlotInput) (*ent.Slot, error) {
	v := viewer.FromContext(ctx)
	if err := s.checkSlot("input", &in, s.now()); err != nil {
		return nil, err
	}
	if err := s.lockAgenda(ctx, v.ID); err != nil {
		return nil, err
	}
	if _, err := s.lockSlot(ctx, id); err != nil {
		return nil, err
	}
	if busy, err := s.hasActiveAppointment(ctx, id); err != nil || busy {
		if err == nil {
			err = gqlerr.ConflictError(gqlerr.ReasonAppointmentActive, "the slot holds an active appointment")
		}
		return nil, err
	}
	return s.db(ctx).Slot.UpdateOneID(id).SetStartsAt(in.StartsAt.UTC()).SetEndsAt(in.EndsAt.UTC()).Save(ctx)
}

// DeleteSlot removes one of the doctor's own free slots. A slot with past
// bookings is withdrawn instead, so those appointments keep their slot.
func (s *Service) DeleteSlot(ctx context.Context, id int) (int, error) {
	if _, err := s.lockSlot(ctx, id); err != nil {
		return 0, err
	}
	if busy, err := s.hasActiveAppointment(ctx, id); err != nil || busy {
		if err == nil {
			err = gqlerr.ConflictError(gqlerr.ReasonAppointmentActive, "the slot holds an active appointment")
		}
		return 0, err
	}
	history, err := s.db(ctx).Appointment.Query().Where(appointment.SlotID(id)).Exist(ctx)
	if err != nil {
		return 0, err
	}
	if history {
		err = s.db(ctx).Slot.UpdateOneID(id).SetDeletedAt(s.now()).Exec(ctx)
	} else {
		err = s.db(ctx).Slot.DeleteOneID(id).Exec(ctx)
	}
	if err != nil {
		return 0, err
	}
	return id, nil
}

// SlotRange resolves the from/to arguments of an agenda read: from now
// for two weeks by default, never more than MaxRange.
func (s *Service) SlotRange(from, to *time.Time) (time.Time, time.Time, error) {
	f := s.now()
	if from != nil {
		f = from.UTC()
	}
	t := f.Add(14 * 24 * time.Hour)
	if to != nil {
		t = to.UTC()
	}
	if !t.After(f) {
		return f, t, gqlerr.BadInput("to", "to must be after from")
	}
	if t.Sub(f) > MaxRange {
		return f, t, gqlerr.BadInput("to", "a range covers at most %d days", int(MaxRange.Hours()/24))
	}
	return f, t, nil
}
