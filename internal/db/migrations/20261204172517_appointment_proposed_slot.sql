-- Modify "appointments" table
ALTER TABLE "appointments" ADD COLUMN "proposed_slot_id" bigint NULL;
