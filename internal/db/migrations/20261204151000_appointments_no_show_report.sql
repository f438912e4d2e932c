-- Hand-written: the no-show report counts the consultations doctors
-- marked as no-shows; they are few, so a partial index finds them without
-- touching the rest.
CREATE INDEX "appointments_no_show_starts_at" ON "appointments" ("starts_at")
  INCLUDE ("doctor_id", "ends_at") WHERE "no_show";
