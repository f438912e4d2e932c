-- Modify "appointments" table
ALTER TABLE "appointments" ADD COLUMN "address" jsonb NULL;
-- Modify "audit_events" table
ALTER TABLE "audit_events" ADD COLUMN "doctor_id" bigint NULL;
-- Modify "doctors" table
-- The doctors registered before the clinic checked CRMs keep being listed
-- and booked: their patients hold appointments with them, and an
-- administrator can still reject any of them. The column is added with
-- VERIFIED for the existing rows, then every new doctor starts PENDING.
ALTER TABLE "doctors" ADD COLUMN "verification" character varying NOT NULL DEFAULT 'VERIFIED', ADD COLUMN "verification_note" character varying NULL, ADD COLUMN "bio" character varying NOT NULL DEFAULT '', ADD COLUMN "languages" jsonb NULL, ADD COLUMN "consultation_modes" jsonb NULL, ADD COLUMN "address" jsonb NULL, ADD COLUMN "photo_key" character varying NULL;
ALTER TABLE "doctors" ALTER COLUMN "verification" SET DEFAULT 'PENDING';
-- Create index "doctor_photo_key" to table: "doctors"
CREATE UNIQUE INDEX "doctor_photo_key" ON "doctors" ("photo_key");
-- Create index "doctor_verification_id" to table: "doctors"
CREATE INDEX "doctor_verification_id" ON "doctors" ("verification", "id");
-- Modify "patients" table
ALTER TABLE "patients" ADD COLUMN "phone" character varying NULL, ADD COLUMN "birth_date" date NULL, ADD COLUMN "preferred_language" character varying NULL;
