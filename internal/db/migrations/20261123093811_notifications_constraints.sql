-- Hand-written: what Ent cannot express about the notifications outbox.

-- A notification has exactly one recipient, a doctor or a patient.
ALTER TABLE "notifications" ADD CONSTRAINT "notifications_one_recipient"
  CHECK (num_nonnulls("doctor_id", "patient_id") = 1);

-- The e-mail worker's claim reads the due rows, oldest first; the rows
-- already sent, failed or skipped (nearly all of them) stay out of it.
CREATE INDEX "notifications_due" ON "notifications" ("next_attempt_at", "id")
  WHERE "email_status" IN ('PENDING', 'SENDING');

-- The reminder scheduler reads accepted consultations by their start.
CREATE INDEX "appointments_accepted_starts_at" ON "appointments" ("starts_at")
  WHERE "status" = 'ACCEPTED';
