-- Hand-written: invoice numbers come from a sequence, so concurrent
-- completions never draw the same one (a gap after a rollback is fine).
CREATE SEQUENCE "invoice_numbers" AS bigint START WITH 1;
