-- The search ordered by the next free slot reads the slots still offered
-- in time order, from the soonest.
CREATE INDEX "slots_starts_at_offered" ON "slots" ("starts_at") WHERE "deleted_at" IS NULL;
