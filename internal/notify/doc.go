// Package notify tells doctors and patients what happened to their
// bookings and record shares: a list in the app and an e-mail for each
// notification.
//
// # The outbox
//
// A notification is a row of the notifications table written by the
// change that calls for it, in that change's transaction (the reactions
// AppointmentChanged and ShareChanged, declared on those schemas): a
// rolled-back booking leaves no notification, a committed one always has
// one. The same row is the recipient's in-app list entry and the e-mail's
// outbox entry. Reminders 24 hours and 1 hour before an accepted
// consultation are enqueued by a scheduler (Worker.ScheduleReminders) with
// INSERT ... ON CONFLICT DO NOTHING on a key per appointment, kind and
// recipient, so any number of runs and replicas enqueue each reminder
// once.
//
// # Delivery, and what "never twice" means here
//
// The Worker claims due rows with SELECT ... FOR UPDATE SKIP LOCKED in a
// short transaction that marks them SENDING, adds one to attempts and
// sets a lease (claimed_until). Concurrent workers, on one replica or
// many, therefore never hold the same row. Every later write of the
// worker is fenced on (id, SENDING, attempts): a worker whose lease ran
// out and whose row another worker took over changes nothing. Right
// before each send the worker renews the lease with such a fenced
// update, so a row is sent only by the worker that holds it, and the send
// is bounded by a timeout shorter than the lease. After the SMTP server
// accepted the message (the 250 reply to the end of DATA) the row is
// marked SENT.
//
// A worker that stops normally (context cancelled, server shutdown)
// finishes the message it is sending and hands the rest of its batch back
// at once. A worker that dies, or loses the database, between the
// server's 250 and the SENT mark leaves the row SENDING: when the lease
// expires another worker sends it again. That window, and an SMTP
// connection lost after the final dot but before the 250 arrives (which
// looks like a failure and is retried), are the remaining at-least-once
// cases: delivery is at-least-once, with a duplicate possible only in
// those two windows. Every message carries a Message-ID derived from the
// notification id (and is rendered byte for byte the same on a re-send),
// so a receiving system that suppresses duplicates by Message-ID, as
// many mail stores and clients do, shows it once.
//
// Failures are retried with exponential backoff (with jitter) up to a
// maximum number of attempts, after which the row is FAILED. A refusal
// of the sender, the recipient or the content with a 5xx reply is
// permanent and fails the row at once. A message about a moment that has
// passed (send_before) is SKIPPED rather than sent late, and so is a
// reminder whose consultation is no longer confirmed.
//
// # Content
//
// E-mail travels in the clear beyond the first hop and ends up in
// mailboxes the service does not control, so messages carry no clinical
// detail: at most the date and time, the doctor's name and the meeting
// link. Specialties, reasons, file names, categories, tags and the
// patient's identity stay in the app, behind the sign-in.
//
// Account e-mails (internal/identity) go through the same outbox: a link
// that verifies an address or resets a password, and the notice to an
// account's owner that someone tried to register its e-mail, CPF or CRM.
// A link goes to the address its token names (a registration's, or an
// account's new one), and its secret is derived again from the token's
// nonce when the message is written (internal/acctoken): the row, the
// in-app list and the log never hold it. A link used or expired before
// its turn is SKIPPED.
package notify
