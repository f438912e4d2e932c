package notify

import (
	"context"
	"time"
)

// remindersSQL enqueues, for both parties of every accepted consultation,
// the reminder 24 hours before (while more than an hour is left) and the
// one an hour before (while it has not begun). The dedupe key (appointment,
// kind, recipient) makes it idempotent across runs and replicas. A
// consultation accepted after a reminder's moment gets no such reminder:
// the acceptance itself, with the link, was just sent.
//
// $1 is the scheduler's "now" (the database's clock, or a test's); the
// rows themselves are made, and due, at the database's now(). Plain SQL,
// run as the system: one statement that finds the due reminders and
// inserts them, which Ent cannot express.
const remindersSQL = `
INSERT INTO notifications (created_at, updated_at, kind, doctor_id, patient_id, appointment_id,
  starts_at, dedupe_key, email_status, attempts, next_attempt_at, send_before)
SELECT now(), now(), r.kind,
  CASE WHEN p.to_doctor THEN a.doctor_id END,
  CASE WHEN p.to_doctor THEN NULL ELSE a.patient_id END,
  a.id, a.starts_at,
  'reminder:' || r.kind || ':' || a.id || ':' || CASE WHEN p.to_doctor THEN 'doctor' ELSE 'patient' END,
  'PENDING', 0, now(), a.starts_at - r.stop_before
FROM appointments a
CROSS JOIN (VALUES ('REMINDER_24H', interval '24 hours', interval '1 hour'),
                   ('REMINDER_1H', interval '1 hour', interval '0')) AS r(kind, lead, stop_before)
CROSS JOIN (VALUES (true), (false)) AS p(to_doctor)
WHERE a.status = 'ACCEPTED'
  AND a.starts_at > $1::timestamptz AND a.starts_at <= $1::timestamptz + interval '24 hours'
  AND a.starts_at > $1::timestamptz + r.stop_before
  AND a.starts_at <= $1::timestamptz + r.lead
  AND NOT EXISTS (SELECT 1 FROM notifications n
    WHERE n.appointment_id = a.id AND n.kind = 'BOOKING_ACCEPTED' AND n.created_at > a.starts_at - r.lead)
ON CONFLICT (dedupe_key) DO NOTHING`

// ScheduleReminders enqueues the reminders due now and returns how many
// were new.
func (w *Worker) ScheduleReminders(ctx context.Context) (int, error) {
	var now time.Time
	if w.Now != nil {
		now = w.Now().UTC()
	} else {
		clock, err := w.dbClock(ctx)
		if err != nil {
			return 0, err
		}
		now = clock()
	}
	res, err := w.Client.ExecContext(ctx, remindersSQL, now)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if n > 0 {
		w.Wake()
	}
	return int(n), err
}
