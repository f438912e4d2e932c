// Package waitlist is a patient's place in a doctor's line for a slot
// that frees up. When one does (a cancellation, a rejection, a
// reschedule away, a new slot), the first in line whose range covers it
// gets it held for them for a while (HEALTHMED_WAITLIST_HOLD), pushed by
// the waitlistOffered subscription and by e-mail; while it is held only
// they can book it, and once the hold expires the next in line gets it.
// The offers are reactions declared on the Appointment, Slot and
// WaitlistOffer schemas (offer.go); the database keeps them race-free
// (see the waitlist migration); the expiry runs on every replica
// (expire.go).
package waitlist

import (
	"context"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/doctor"
	"github.com/healthmed/healthmed/ent/waitlistentry"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// MaxEntries bounds the lines one patient stands in at once.
const MaxEntries = 20

// Service holds the waitlist's dependencies.
type Service struct {
	Client *ent.Client
	// Now is the clock; tests move it.
	Now func() time.Time
}

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }

// Join puts the signed-in patient at the end of the doctor's line, for
// slots starting within [from, to) when given.
func (s *Service) Join(ctx context.Context, doctorID int, from, to *time.Time) (*ent.WaitlistEntry, error) {
	v := viewer.FromContext(ctx)
	now := s.now()
	switch {
	case from != nil && to != nil && !to.After(*from):
		return nil, gqlerr.BadInput("to", "to must be after from")
	case to != nil && !to.After(now):
		return nil, gqlerr.BadInput("to", "to must be in the future")
	}
	db := s.db(ctx)
	ok, err := db.Doctor.Query().Where(doctor.ID(doctorID)).Exist(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, gqlerr.NotFoundError("doctor")
	}
	// The privacy rule shows a patient their own entries only.
	waiting, err := db.WaitlistEntry.Query().Where(waitlistentry.StatusEQ(waitlistentry.StatusWAITING)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if waiting >= MaxEntries {
		return nil, gqlerr.ConflictError(gqlerr.ReasonWaitlistFull, "you are already waiting in too many lines")
	}
	c := db.WaitlistEntry.Create().SetDoctorID(doctorID).SetPatientID(v.ID)
	if from != nil {
		c.SetFrom(from.UTC())
	}
	if to != nil {
		c.SetTo(to.UTC())
	}
	// A second WAITING entry for the same doctor is refused by a partial
	// unique index (CONFLICT/ALREADY_WAITLISTED).
	return c.Save(ctx)
}

// Leave takes the patient out of a line; a slot held for them goes to
// the next in it. Leaving twice is harmless.
func (s *Service) Leave(ctx context.Context, id int) (int, error) {
	db := s.db(ctx)
	e, err := db.WaitlistEntry.Query().Where(waitlistentry.ID(id)).ForUpdate().Only(ctx)
	if ent.IsNotFound(err) {
		return 0, gqlerr.NotFoundError("waitlist entry")
	}
	if err != nil {
		return 0, err
	}
	switch e.Status {
	case waitlistentry.StatusLEFT:
		return id, nil
	case waitlistentry.StatusBOOKED:
		return 0, gqlerr.ConflictError(gqlerr.ReasonInvalidTransition, "the entry already booked its slot")
	}
	return id, leave(ctx, db, e)
}

// LeaveAll takes the signed-in patient out of every line, as closing
// their account does; c is the writer's transaction.
func LeaveAll(ctx context.Context, c *ent.Client) error {
	waiting, err := c.WaitlistEntry.Query().Where(waitlistentry.StatusEQ(waitlistentry.StatusWAITING)).
		Order(ent.Asc(waitlistentry.FieldID)).ForUpdate().All(ctx)
	if err != nil {
		return err
	}
	for _, e := range waiting {
		if err := leave(ctx, c, e); err != nil {
			return err
		}
	}
	return nil
}

// leave marks the entry LEFT and hands the slot it holds, if any, to the
// next in line.
func leave(ctx context.Context, c *ent.Client, e *ent.WaitlistEntry) error {
	if err := c.WaitlistEntry.UpdateOne(e).SetStatus(waitlistentry.StatusLEFT).Exec(ctx); err != nil {
		return err
	}
	// The WaitlistOffer schema hands the slot to the next in line.
	return c.WaitlistOffer.Update().
		Where(waitlistoffer.EntryID(e.ID), waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).
		SetStatus(waitlistoffer.StatusWITHDRAWN).Exec(viewer.SystemContext(ctx))
}

// Entries are the signed-in patient's places in line, oldest first.
func (s *Service) Entries(ctx context.Context) ([]*ent.WaitlistEntry, error) {
	return s.db(ctx).WaitlistEntry.Query().Where(waitlistentry.StatusEQ(waitlistentry.StatusWAITING)).
		Order(ent.Asc(waitlistentry.FieldCreatedAt), ent.Asc(waitlistentry.FieldID)).All(ctx)
}

// Position is the entry's place in its doctor's line, 1 for the first,
// or nil once it left the line. Only the count of those ahead is read,
// never who they are.
func (s *Service) Position(ctx context.Context, e *ent.WaitlistEntry) (*int, error) {
	if e.Status != waitlistentry.StatusWAITING {
		return nil, nil
	}
	ahead, err := s.db(ctx).WaitlistEntry.Query().Where(
		waitlistentry.DoctorID(e.DoctorID),
		waitlistentry.StatusEQ(waitlistentry.StatusWAITING),
		waitlistentry.Or(
			waitlistentry.CreatedAtLT(e.CreatedAt),
			waitlistentry.And(waitlistentry.CreatedAt(e.CreatedAt), waitlistentry.IDLT(e.ID))),
	).Count(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	p := ahead + 1
	return &p, nil
}

// CurrentOffer is WaitlistEntry.offer: the slot held for the entry now,
// if any. A hold past its time that the expiry job has not handed on
// yet is shown no more.
func (s *Service) CurrentOffer(ctx context.Context, e *ent.WaitlistEntry) (*ent.WaitlistOffer, error) {
	o, err := s.db(ctx).WaitlistOffer.Query().Where(waitlistoffer.EntryID(e.ID),
		waitlistoffer.StatusEQ(waitlistoffer.StatusHELD), waitlistoffer.ExpiresAtGT(s.now())).
		WithSlot().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return o, err
}

// OfferedSlot is WaitlistOffer.slot.
func (s *Service) OfferedSlot(ctx context.Context, o *ent.WaitlistOffer) (*ent.Slot, error) {
	if sl := o.Edges.Slot; sl != nil {
		return sl, nil
	}
	return o.QuerySlot().Only(ctx)
}
