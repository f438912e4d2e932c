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

// Emitter writes events inside the caller's transaction and wakes the
// readers once it commits.
type Emitter struct {
	Client *ent.Client
	Hub    *Hub
}

// Appointment records a change of an appointment.
func (e *Emitter) Appointment(ctx context.Context, kind event.Kind, a *ent.Appointment) error {
	return e.emit(ctx, e.db(ctx).Event.Create().SetKind(kind).SetDoctorID(a.DoctorID).
		SetPatientID(a.PatientID).SetAppointmentID(a.ID).SetSlotID(a.SlotID))
}

// Slot records a change of a slot on the doctor's agenda.
func (e *Emitter) Slot(ctx context.Context, kind event.Kind, doctorID, slotID int) error {
	return e.emit(ctx, e.db(ctx).Event.Create().SetKind(kind).SetDoctorID(doctorID).SetSlotID(slotID))
}

func (e *Emitter) emit(ctx context.Context, c *ent.EventCreate) error {
	if err := c.Exec(viewer.SystemContext(ctx)); err != nil {
		return err
	}
	if e.Hub != nil {
		txn.AfterCommit(ctx, e.Hub.Wake)
	}
	return nil
}

func (e *Emitter) db(ctx context.Context) *ent.Client { return txn.Client(ctx, e.Client) }
