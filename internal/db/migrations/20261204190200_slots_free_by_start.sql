-- The search ordered by the next free slot reads the slots still offered
-- in (start, doctor) order, from the soonest: the page's own order, so it
-- stops at its LIMIT.
CREATE INDEX "slots_starts_at_offered" ON "slots" ("starts_at", "doctor_id") WHERE "deleted_at" IS NULL;
