-- Hand-written: events are ordered by the commit of the transaction that
-- wrote them, no longer by its transaction id. A reader must hold back an
-- event only while a transaction that can still write one before it is
-- running; ordered by transaction id, that meant every transaction of the
-- cluster, another database's too. Numbered at commit, it is only the
-- transactions of this database that are committing event rows.
ALTER TABLE "events" RENAME COLUMN "txid" TO "ord";
ALTER TABLE "events" ALTER COLUMN "ord" DROP DEFAULT;
ALTER INDEX "event_txid_id" RENAME TO "event_ord_id";
ALTER INDEX "event_doctor_id_txid_id" RENAME TO "event_doctor_id_ord_id";
ALTER INDEX "event_patient_id_txid_id" RENAME TO "event_patient_id_ord_id";
-- Appointment.lastEventId reads the newest event of an appointment.
CREATE INDEX "event_appointment_id_ord_id" ON "events" ("appointment_id", "ord", "id");
-- Numbers continue after the transaction ids of the events already kept.
CREATE SEQUENCE "event_ord_seq" AS bigint;
SELECT setval('event_ord_seq', greatest((SELECT max("ord") FROM "events"), 1));
-- Runs as the writing transaction commits (a deferred constraint trigger
-- fires then). The first event row of the transaction:
-- 1. announces "I may take a number": a shared advisory lock on
--    (1212503620, 0), the same for every writer;
-- 2. takes its number from event_ord_seq;
-- 3. publishes it as a second shared advisory lock whose keys encode it:
--    (1212503621 + ord / 2^31, ord % 2^31);
-- and every event row of the transaction gets that number. Both locks end
-- with the transaction, after its rows became visible. The reader (see
-- internal/live/horizon.go) reads the sequence, then pg_locks: a writer
-- it does not see there has either committed already or will take a
-- larger number than the one read. The lock keys must stay in step with
-- horizon.go.
CREATE FUNCTION "events_ord"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  o bigint := nullif(current_setting('healthmed.event_ord', true), '')::bigint;
BEGIN
  IF o IS NULL THEN
    PERFORM pg_advisory_xact_lock_shared(1212503620, 0);
    o := nextval('event_ord_seq');
    PERFORM pg_advisory_xact_lock_shared(1212503621 + (o >> 31)::int, (o & 2147483647)::int);
    PERFORM set_config('healthmed.event_ord', o::text, true);
  END IF;
  UPDATE "events" SET "ord" = o WHERE "id" = NEW."id";
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER "events_ord" AFTER INSERT ON "events"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "events_ord"();
