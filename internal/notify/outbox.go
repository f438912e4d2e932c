package notify

import (
	"context"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/ent/event"
	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/viewer"
)

// AppointmentChanged enqueues what an appointment's move calls for: a
// new request goes to the doctor; an acceptance (with the meeting link)
// and a rejection go to the patient; a cancellation goes to each party
// who did not cancel (both, when the system or an administrator did). A
// consultation that is no longer confirmed drops its pending reminders.
// It is a reaction of the Appointment schema: c is the writer's
// transaction.
func AppointmentChanged(ctx context.Context, c *ent.Client, kind event.Kind, a *ent.Appointment) error {
	sys := viewer.SystemContext(ctx)
	create := func(k notification.Kind, toDoctor bool, sendBefore time.Time) error {
		n := c.Notification.Create().SetKind(k).SetAppointmentID(a.ID).
			SetStartsAt(a.StartsAt).SetSendBefore(sendBefore)
		if toDoctor {
			n.SetDoctorID(a.DoctorID)
		} else {
			n.SetPatientID(a.PatientID)
		}
		return enqueue(ctx, n)
	}
	switch kind {
	case event.KindBOOKING_REQUESTED:
		// The doctor cannot accept once the consultation has begun.
		return create(notification.KindBOOKING_REQUESTED, true, a.StartsAt)
	case event.KindBOOKING_ACCEPTED:
		return create(notification.KindBOOKING_ACCEPTED, false, a.EndsAt)
	case event.KindBOOKING_REJECTED:
		if err := dropReminders(sys, c, a.ID); err != nil {
			return err
		}
		return create(notification.KindBOOKING_REJECTED, false, a.EndsAt)
	case event.KindBOOKING_CANCELLED:
		if err := dropReminders(sys, c, a.ID); err != nil {
			return err
		}
		// The party who cancelled knows already. Anyone else (the system,
		// a job, an administrator) leaves both parties to be told; a
		// writer's role alone would take them for one of the parties.
		v := viewer.FromContext(ctx)
		byDoctor := v.IsDoctor() && v.ID == a.DoctorID
		byPatient := v.IsPatient() && v.ID == a.PatientID
		if !byDoctor {
			if err := create(notification.KindBOOKING_CANCELLED, true, a.EndsAt); err != nil {
				return err
			}
		}
		if byPatient {
			return nil
		}
		return create(notification.KindBOOKING_CANCELLED, false, a.EndsAt)
	case event.KindBOOKING_COMPLETED:
		return dropReminders(sys, c, a.ID)
	case event.KindBOOKING_RESCHEDULED:
		// Reminders of the old time would name the wrong hour. Their rows
		// stay (the in-app list) but give up their keys, so the scheduler
		// enqueues the new time's own.
		if err := dropReminders(sys, c, a.ID); err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, `UPDATE notifications SET dedupe_key = NULL
			WHERE appointment_id = $1 AND kind IN ('REMINDER_24H', 'REMINDER_1H')`, a.ID); err != nil {
			return err
		}
		// Both are told the new time: the doctor of a change to their
		// agenda, the patient as the confirmation (with the link, when
		// accepted).
		if err := create(notification.KindBOOKING_RESCHEDULED, true, a.StartsAt); err != nil {
			return err
		}
		return create(notification.KindBOOKING_RESCHEDULED, false, a.StartsAt)
	case event.KindRESCHEDULE_PROPOSED:
		return create(notification.KindRESCHEDULE_PROPOSED, false, a.StartsAt)
	case event.KindRESCHEDULE_DECLINED:
		return create(notification.KindRESCHEDULE_DECLINED, true, a.StartsAt)
	}
	return nil
}

// WaitlistOffered enqueues the e-mail of a slot held for a waitlisted
// patient, useless once the hold expires; a reaction of the
// WaitlistOffer schema.
func WaitlistOffered(ctx context.Context, c *ent.Client, o *ent.WaitlistOffer) error {
	sl, err := c.Slot.Get(viewer.SystemContext(ctx), o.SlotID)
	if err != nil {
		return err
	}
	return enqueue(ctx, c.Notification.Create().SetKind(notification.KindWAITLIST_OFFERED).
		SetPatientID(o.PatientID).SetWaitlistOfferID(o.ID).SetStartsAt(sl.StartsAt).SetSendBefore(o.ExpiresAt))
}

// dropReminders skips the reminders not yet sent of an appointment.
func dropReminders(ctx context.Context, c *ent.Client, appointmentID int) error {
	return c.Notification.Update().
		Where(notification.AppointmentID(appointmentID),
			notification.KindIn(notification.KindREMINDER_24H, notification.KindREMINDER_1H),
			notification.EmailStatusEQ(notification.EmailStatusPENDING)).
		SetEmailStatus(notification.EmailStatusSKIPPED).
		SetLastError("the consultation is no longer confirmed").
		Exec(ctx)
}

// ShareChanged enqueues the notice to the doctor of a record share made
// (revoked false) or revoked; a reaction of the RecordShare schema.
func ShareChanged(ctx context.Context, c *ent.Client, sh *ent.RecordShare, revoked bool) error {
	// Past the share's expiry neither notice matters any more.
	n := c.Notification.Create().SetDoctorID(sh.DoctorID).SetRecordShareID(sh.ID).
		SetSendBefore(sh.ExpiresAt)
	if revoked {
		n.SetKind(notification.KindSHARE_REVOKED)
	} else {
		n.SetKind(notification.KindSHARE_CREATED)
	}
	return enqueue(ctx, n)
}

// enqueue writes a notification, the in-app list's row and the e-mail
// outbox's at once; the Notification schema wakes the worker once the
// writer's transaction commits.
func enqueue(ctx context.Context, n *ent.NotificationCreate) error {
	return n.Exec(viewer.SystemContext(ctx))
}
