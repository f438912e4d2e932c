-- Invariants the database enforces itself, so no race between requests or
-- replicas can break them. Ent cannot express these; they are hand-written.

-- A slot has a positive length.
ALTER TABLE "slots" ADD CONSTRAINT "slots_valid_range" CHECK ("ends_at" > "starts_at");

-- The live slots of one doctor never overlap.
ALTER TABLE "slots" ADD CONSTRAINT "slots_no_overlap"
  EXCLUDE USING gist ("doctor_id" WITH =, tstzrange("starts_at", "ends_at") WITH &&)
  WHERE ("deleted_at" IS NULL);

-- At most one active appointment holds a slot.
CREATE UNIQUE INDEX "appointments_one_active_per_slot" ON "appointments" ("slot_id")
  WHERE "status" IN ('REQUESTED', 'ACCEPTED');

-- A patient never holds two active appointments that overlap in time.
ALTER TABLE "appointments" ADD CONSTRAINT "appointments_patient_no_overlap"
  EXCLUDE USING gist ("patient_id" WITH =, tstzrange("starts_at", "ends_at") WITH &&)
  WHERE ("status" IN ('REQUESTED', 'ACCEPTED'));

-- The audit log is append-only, whatever the application does.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "audit_events_no_update" BEFORE UPDATE OR DELETE OR TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();

-- A doctor's weekly hours end after they start.
ALTER TABLE "availabilities" ADD CONSTRAINT "availabilities_valid_range" CHECK ("end_minute" > "start_minute");
