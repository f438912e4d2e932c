-- The waitlist's invariants, which no race between requests, the expiry
-- job or replicas can break. Hand-written: Ent cannot express these.

-- A patient stands in a doctor's line once at a time.
CREATE UNIQUE INDEX "waitlist_entries_one_waiting" ON "waitlist_entries" ("patient_id", "doctor_id")
  WHERE "status" = 'WAITING';

-- A slot is held for one entry at a time, and an entry holds one slot.
CREATE UNIQUE INDEX "waitlist_offers_one_held_per_slot" ON "waitlist_offers" ("slot_id")
  WHERE "status" = 'HELD';
CREATE UNIQUE INDEX "waitlist_offers_one_held_per_entry" ON "waitlist_offers" ("entry_id")
  WHERE "status" = 'HELD';

ALTER TABLE "waitlist_entries" ADD CONSTRAINT "waitlist_entries_valid_range"
  CHECK ("range_from" IS NULL OR "range_to" IS NULL OR "range_to" > "range_from");

-- While a slot is held, only its holder may take it, by booking or by
-- rescheduling into it; the holder taking it uses the hold and ends the
-- entry's wait. The check runs after the row is in the table, so after
-- the wait on the one-active-per-slot index: a booking that raced the
-- cancellation which freed the slot (and made the hold in the same
-- commit) sees that hold here. Locking the holder's offer row (the
-- UPDATE) orders the holder's booking against the expiry job's hand-on.
CREATE FUNCTION "waitlist_claim_slot"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH used AS (
    UPDATE "waitlist_offers" SET "status" = 'BOOKED', "updated_at" = now()
    WHERE "slot_id" = NEW."slot_id" AND "status" = 'HELD' AND "patient_id" = NEW."patient_id"
    RETURNING "entry_id")
  UPDATE "waitlist_entries" SET "status" = 'BOOKED', "updated_at" = now()
  WHERE "id" IN (SELECT "entry_id" FROM used);
  IF EXISTS (SELECT 1 FROM "waitlist_offers"
             WHERE "slot_id" = NEW."slot_id" AND "status" = 'HELD' AND "patient_id" <> NEW."patient_id") THEN
    RAISE EXCEPTION 'the slot is held for a patient on the waitlist'
      USING ERRCODE = 'unique_violation', CONSTRAINT = 'waitlist_slot_held';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "appointments_waitlist_hold" AFTER INSERT OR UPDATE OF "slot_id" ON "appointments"
  FOR EACH ROW WHEN (NEW."status" IN ('REQUESTED', 'ACCEPTED'))
  EXECUTE FUNCTION "waitlist_claim_slot"();
