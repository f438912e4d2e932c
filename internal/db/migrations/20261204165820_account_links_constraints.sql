-- Hand-written: what Ent cannot express about account e-mails.

-- A notification has exactly one recipient: a doctor, a patient, or a
-- registration still waiting for its e-mail link (it has no account yet).
-- The old check is replaced by the wider one in one statement.
ALTER TABLE "notifications" DROP CONSTRAINT "notifications_one_recipient",
  ADD CONSTRAINT "notifications_one_recipient"
  CHECK (num_nonnulls("doctor_id", "patient_id", "registration_id") = 1);

-- A link is used once: the token's claim is one conditional UPDATE.
-- Registrations and tokens past their expiry are deleted by the clinic job.
