package waitlist

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/appointment"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/slot"
	"github.com/healthmed/healthmed/ent/waitlistentry"
	"github.com/healthmed/healthmed/ent/waitlistoffer"
	"github.com/healthmed/healthmed/internal/viewer"
)

// The reactions below are declared on the Appointment, Slot and
// WaitlistOffer schemas:
// they run in the writer's transaction (c is bound to it), so a slot is
// freed and held for the first in line in one commit, and no booker ever
// sees it free in between.

// AppointmentEnded offers the slot of a cancelled or rejected appointment
// to the doctor's waitlist.
func AppointmentEnded(ctx context.Context, c *ent.Client, a *ent.Appointment) error {
	return Offer(ctx, c, a.DoctorID, a.SlotID)
}

// RescheduledAway offers the slot an appointment left.
func RescheduledAway(ctx context.Context, c *ent.Client, a *ent.Appointment, fromSlot int) error {
	return Offer(ctx, c, a.DoctorID, fromSlot)
}

// HoldEnded offers the slot of a hold that ended unused (it expired, or
// its entry left the line) to the next in line.
func HoldEnded(ctx context.Context, c *ent.Client, o *ent.WaitlistOffer) error {
	return Offer(ctx, c, o.DoctorID, o.SlotID)
}

// SlotChanged offers a new slot to the doctor's waitlist, and withdraws
// the hold on a slot the doctor withdrew.
func SlotChanged(ctx context.Context, c *ent.Client, kind event.Kind, doctorID, slotID int) error {
	switch kind {
	case event.KindSLOT_CREATED:
		return Offer(ctx, c, doctorID, slotID)
	case event.KindSLOT_DELETED:
		return c.WaitlistOffer.Update().
			Where(waitlistoffer.SlotID(slotID), waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).
			SetStatus(waitlistoffer.StatusWITHDRAWN).Exec(viewer.SystemContext(ctx))
	}
	return nil
}

// Offer holds the slot, if it is free, in the future and not held yet,
// for the first WAITING entry of the doctor's line whose range covers
// its start, that holds no other slot, was never offered this one, and
// whose patient never had an appointment in it (someone who cancelled or
// moved away from a time is not offered it back). The hold lasts the
// configured time (reaction.Deps.Hold).
//
// Offers for one doctor are made one at a time (a transaction-scoped
// advisory lock), so the line's order holds under concurrent frees; the
// partial unique indexes (one HELD offer per slot, one per entry) are the
// invariant itself.
func Offer(ctx context.Context, c *ent.Client, doctorID, slotID int) error {
	sys := viewer.SystemContext(ctx)
	waiting, err := c.WaitlistEntry.Query().
		Where(waitlistentry.DoctorID(doctorID), waitlistentry.StatusEQ(waitlistentry.StatusWAITING)).Exist(sys)
	if err != nil || !waiting {
		return err
	}
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('waitlist:' || $1::text, 0))`, doctorID); err != nil {
		return err
	}
	now := c.Reactions.NowUTC()
	sl, err := c.Slot.Query().Where(slot.ID(slotID), slot.DeletedAtIsNil(), slot.StartsAtGT(now)).Only(sys)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	taken, err := c.Appointment.Query().Where(appointment.SlotID(slotID),
		appointment.StatusIn(appointment.StatusREQUESTED, appointment.StatusACCEPTED)).Exist(sys)
	if err != nil || taken {
		return err
	}
	held, err := c.WaitlistOffer.Query().
		Where(waitlistoffer.SlotID(slotID), waitlistoffer.StatusEQ(waitlistoffer.StatusHELD)).Exist(sys)
	if err != nil || held {
		return err
	}
	first, err := c.WaitlistEntry.Query().Where(
		waitlistentry.DoctorID(doctorID),
		waitlistentry.StatusEQ(waitlistentry.StatusWAITING),
		waitlistentry.Or(waitlistentry.FromIsNil(), waitlistentry.FromLTE(sl.StartsAt)),
		waitlistentry.Or(waitlistentry.ToIsNil(), waitlistentry.ToGT(sl.StartsAt)),
		waitlistentry.Not(waitlistentry.HasOffersWith(waitlistoffer.Or(
			waitlistoffer.StatusEQ(waitlistoffer.StatusHELD), waitlistoffer.SlotID(slotID)))),
		func(s *sql.Selector) {
			a := sql.Table(appointment.Table)
			s.Where(sql.Not(sql.Exists(sql.Select(a.C(appointment.FieldID)).From(a).Where(sql.And(
				sql.EQ(a.C(appointment.FieldSlotID), slotID),
				sql.ColumnsEQ(a.C(appointment.FieldPatientID), s.C(waitlistentry.FieldPatientID)))))))
		},
	).Order(ent.Asc(waitlistentry.FieldCreatedAt), ent.Asc(waitlistentry.FieldID)).First(sys)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.WaitlistOffer.Create().SetEntryID(first.ID).SetSlotID(slotID).SetDoctorID(doctorID).
		SetPatientID(first.PatientID).SetExpiresAt(now.Add(c.Reactions.Hold())).Exec(sys)
}
