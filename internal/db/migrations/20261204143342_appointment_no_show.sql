-- Modify "appointments" table
ALTER TABLE "appointments" ADD COLUMN "no_show" boolean NOT NULL DEFAULT false;
