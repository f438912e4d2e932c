// Package live delivers agenda and appointment changes to subscribers.
// Changes are rows of the events table written in the change's own
// transaction; NOTIFY only wakes the readers of every replica, which then
// read the table, so a lost notification delays an event but never loses
// it.
package live

import (
	"context"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AppointmentChanged writes the event of an appointment's move for both
// parties' subscriptions. It is a reaction of the Appointment schema: c
// is the writer's transaction, and the readers wake once it commits.
func AppointmentChanged(ctx context.Context, c *ent.Client, kind event.Kind, a *ent.Appointment) error {
	return emit(ctx, c, c.Event.Create().SetKind(kind).SetDoctorID(a.DoctorID).
		SetPatientID(a.PatientID).SetAppointmentID(a.ID).SetSlotID(a.SlotID))
}

// SlotChanged writes the event of a slot opened, moved or withdrawn on
// the doctor's agenda; a reaction of the Slot schema.
func SlotChanged(ctx context.Context, c *ent.Client, kind event.Kind, doctorID, slotID int) error {
	return emit(ctx, c, c.Event.Create().SetKind(kind).SetDoctorID(doctorID).SetSlotID(slotID))
}

func emit(ctx context.Context, c *ent.Client, create *ent.EventCreate) error {
	if err := create.Exec(viewer.SystemContext(ctx)); err != nil {
		return err
	}
	txn.AfterCommit(ctx, c.Reactions.WakeLive)
	return nil
}
