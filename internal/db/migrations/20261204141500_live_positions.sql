-- Where each sign-in's subscriptions stood when they ended, so that a
-- standard client's automatic resubscription resumes there (internal/live,
-- Positions). Not an Ent entity: only the live package reads and writes it.
CREATE TABLE "live_positions" (
  "family" text NOT NULL,
  "name" text NOT NULL,
  "event_id" bigint NOT NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("family", "name")
);
CREATE INDEX "live_positions_updated_at" ON "live_positions" ("updated_at");
