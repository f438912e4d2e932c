-- Hand-written: what the clinic's reports and jobs read. Ent cannot
-- express INCLUDE columns nor partial indexes as PostgreSQL prints them.

-- Consultations per doctor and status, and no-shows, over a range of
-- start times: an index-only scan of the range, grouped without touching
-- the table.
CREATE INDEX "appointments_report_starts_at" ON "appointments" ("starts_at")
  INCLUDE ("doctor_id", "status", "ends_at");

-- Revenue per month: only paid invoices, by the moment they were paid.
CREATE INDEX "invoices_paid_at" ON "invoices" ("paid_at") INCLUDE ("amount_cents")
  WHERE "status" = 'PAID';

-- No-shows: the few invoices the server issued for consultations the
-- doctor never confirmed.
CREATE INDEX "invoices_system_service_at" ON "invoices" ("service_at") INCLUDE ("doctor_id")
  WHERE "issued_by" = 'SYSTEM';

-- Average rating per doctor over a range of rating dates.
CREATE INDEX "feedbacks_report_created_at" ON "feedbacks" ("created_at")
  INCLUDE ("doctor_id", "stars");

-- The coverage reconciler: the checks still waiting for an answer.
CREATE INDEX "coverage_checks_unsettled" ON "coverage_checks" ("created_at")
  WHERE "checked_at" IS NULL;
