package notify

import (
	"context"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Outbox writes notifications in the caller's transaction.
type Outbox struct {
	Client *ent.Client
	// Wake, when set, runs once a transaction that wrote a notification
	// has committed: it nudges the local worker, which other replicas
	// replace with their polling.
	Wake func()
}

// AgendaEvents is what the agenda reports its changes to (agenda.Events).
type AgendaEvents interface {
	Appointment(ctx context.Context, kind event.Kind, a *ent.Appointment) error
}

// Events passes the agenda's changes on to Next (the live updates) and
// enqueues the notifications they call for, in the same transaction.
type Events struct {
	Next   AgendaEvents
	Outbox *Outbox
}

// Appointment implements AgendaEvents.
func (e Events) Appointment(ctx context.Context, kind event.Kind, a *ent.Appointment) error {
	if e.Next != nil {
		if err := e.Next.Appointment(ctx, kind, a); err != nil {
			return err
		}
	}
	return e.Outbox.Appointment(ctx, kind, a)
}

// Appointment enqueues what a change of an appointment calls for: a new
// request goes to the doctor; an acceptance (with the meeting link) and a
// rejection go to the patient; a cancellation goes to the party who did
// not cancel. A consultation that is no longer confirmed drops its
// pending reminders.
func (o *Outbox) Appointment(ctx context.Context, kind event.Kind, a *ent.Appointment) error {
	db := o.db(ctx)
	sys := viewer.SystemContext(ctx)
	create := func(k notification.Kind, toDoctor bool, sendBefore time.Time) error {
		c := db.Notification.Create().SetKind(k).SetAppointmentID(a.ID).
			SetStartsAt(a.StartsAt).SetSendBefore(sendBefore)
		if toDoctor {
			c.SetDoctorID(a.DoctorID)
		} else {
			c.SetPatientID(a.PatientID)
		}
		if err := c.Exec(sys); err != nil {
			return err
		}
		o.wakeAfterCommit(ctx)
		return nil
	}
	switch kind {
	case event.KindBOOKING_REQUESTED:
		// The doctor cannot accept once the consultation has begun.
		return create(notification.KindBOOKING_REQUESTED, true, a.StartsAt)
	case event.KindBOOKING_ACCEPTED:
		return create(notification.KindBOOKING_ACCEPTED, false, a.EndsAt)
	case event.KindBOOKING_REJECTED:
		if err := o.dropReminders(sys, db, a.ID); err != nil {
			return err
		}
		return create(notification.KindBOOKING_REJECTED, false, a.EndsAt)
	case event.KindBOOKING_CANCELLED:
		if err := o.dropReminders(sys, db, a.ID); err != nil {
			return err
		}
		// Patients cancel today; should a doctor ever cancel, the patient
		// is the one to tell.
		toDoctor := !viewer.FromContext(ctx).IsDoctor()
		return create(notification.KindBOOKING_CANCELLED, toDoctor, a.EndsAt)
	case event.KindBOOKING_COMPLETED:
		return o.dropReminders(sys, db, a.ID)
	}
	return nil
}

// dropReminders skips the reminders not yet sent of an appointment.
func (o *Outbox) dropReminders(ctx context.Context, db *ent.Client, appointmentID int) error {
	return db.Notification.Update().
		Where(notification.AppointmentID(appointmentID),
			notification.KindIn(notification.KindREMINDER_24H, notification.KindREMINDER_1H),
			notification.EmailStatusEQ(notification.EmailStatusPENDING)).
		SetEmailStatus(notification.EmailStatusSKIPPED).
		SetLastError("the consultation is no longer confirmed").
		Exec(ctx)
}

// ShareChanged enqueues the notice to the doctor of a record share made
// (revoked false) or revoked. record.Service calls it in the change's
// transaction.
func (o *Outbox) ShareChanged(ctx context.Context, sh *ent.RecordShare, revoked bool) error {
	// Past the share's expiry neither notice matters any more.
	c := o.db(ctx).Notification.Create().SetDoctorID(sh.DoctorID).SetRecordShareID(sh.ID).
		SetSendBefore(sh.ExpiresAt)
	if revoked {
		c.SetKind(notification.KindSHARE_REVOKED)
	} else {
		c.SetKind(notification.KindSHARE_CREATED)
	}
	if err := c.Exec(viewer.SystemContext(ctx)); err != nil {
		return err
	}
	o.wakeAfterCommit(ctx)
	return nil
}

func (o *Outbox) wakeAfterCommit(ctx context.Context) {
	if o.Wake != nil {
		txn.AfterCommit(ctx, o.Wake)
	}
}

// db returns the transaction of the current mutation, or the client.
func (o *Outbox) db(ctx context.Context) *ent.Client { return txn.Client(ctx, o.Client) }
