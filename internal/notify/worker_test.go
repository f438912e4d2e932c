package notify_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/ent/notification"
	"github.com/healthmed/healthmed/internal/apptest"
	"github.com/healthmed/healthmed/internal/notify"
	"github.com/healthmed/healthmed/internal/notify/smtptest"
)

// A worker stopped in the middle of a batch (its context cancelled, as
// on shutdown) finishes the message in flight and hands the rest back:
// a new worker sends them at once, and every notification reaches the
// server exactly once.
func TestWorkerStoppedMidBatchHandsTheRestBack(t *testing.T) {
	env := newEnv(t)
	bookings(t, env, 8)
	srv := smtptest.Start(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := newWorker(env, srv, nil)
	first.Batch = 8
	sent := 0
	notify.SetAfterSend(first, func(int) error {
		if sent++; sent == 3 {
			cancel() // the shutdown signal arrives while the third is out
		}
		return nil
	})
	if n, err := first.RunOnce(ctx); err != nil || n != 8 {
		t.Fatalf("first worker claimed %d (%v), want the whole batch of 8", n, err)
	}
	if got := len(srv.Messages()); got != 3 {
		t.Fatalf("%d messages before the stop, want 3", got)
	}
	for _, n := range all(t, env) {
		switch n.EmailStatus {
		case notification.EmailStatusSENT:
		case notification.EmailStatusPENDING:
			if n.Attempts != 0 || n.ClaimedUntil != nil {
				t.Errorf("handed-back row %d: attempts %d, claimed until %v", n.ID, n.Attempts, n.ClaimedUntil)
			}
		default:
			t.Errorf("row %d is %s after a clean stop", n.ID, n.EmailStatus)
		}
	}

	// No lease to wait for: the next worker takes the rest straight away.
	second := newWorker(env, srv, nil)
	if n, err := second.RunOnce(context.Background()); err != nil || n != 5 {
		t.Fatalf("second worker claimed %d (%v), want 5", n, err)
	}
	assertExactlyOnce(t, env, srv)
}

// A worker that dies between the server's acceptance and the SENT mark
// leaves the message SENDING under its lease. Nobody touches it before
// the lease expires; then a new worker sends it again with the same
// Message-ID (byte for byte the same message), so a receiver that
// suppresses duplicates by Message-ID keeps exactly one of each. That is
// the at-least-once window, and the only duplicate in the run.
func TestWorkerDyingBetweenSendAndMarkResendsOnlyAfterTheLease(t *testing.T) {
	env := newEnv(t)
	bookings(t, env, 8)
	srv := smtptest.Start(t)

	dying := newWorker(env, srv, nil)
	dying.Batch = 8
	sends, crashedID := 0, 0
	notify.SetAfterSend(dying, func(id int) error {
		if sends++; sends == 3 {
			crashedID = id
			return errors.New("kill -9")
		}
		return nil
	})
	diedAt := time.Now()
	if _, err := dying.RunOnce(context.Background()); err == nil {
		t.Fatal("the dying worker reported no death")
	}
	if got := len(srv.Messages()); got != 3 {
		t.Fatalf("%d messages before the death, want 3", got)
	}

	// Within the lease a new worker finds nothing it may take.
	second := newWorker(env, srv, nil)
	if n, err := second.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("within the lease a second worker claimed %d (%v)", n, err)
	}
	// After it, the new worker delivers the rest, the unconfirmed one too.
	stop := runUntil(t, second)
	msgs := srv.WaitFor(t, 9, 15*time.Second)
	stop()
	eventually(t, 5*time.Second, "all rows SENT", func() bool {
		for _, n := range all(t, env) {
			if n.EmailStatus != notification.EmailStatusSENT {
				return false
			}
		}
		return true
	})
	var copies [][]byte
	for _, m := range msgs[3:] {
		if m.MessageID == messageID(crashedID) {
			copies = append(copies, m.Data)
			if m.At.Sub(diedAt) < 2*time.Second {
				t.Fatalf("re-sent %v after the death, before the 2s lease ran out", m.At.Sub(diedAt))
			}
		}
	}
	if len(copies) != 1 || !bytes.Equal(copies[0], msgs[2].Data) || msgs[2].MessageID != messageID(crashedID) {
		t.Fatalf("the unconfirmed message was not re-sent identically once (%d copies)", len(copies))
	}
	if len(msgs) != 9 {
		t.Fatalf("%d deliveries, want 8 plus the one re-send", len(msgs))
	}
	// Counted by Message-ID, as a deduplicating receiver does: each once.
	assertOncePerMessageID(t, env, srv)
}

// Three workers racing over one outbox never send the same row twice.
func TestConcurrentWorkersSendEachNotificationOnce(t *testing.T) {
	env := newEnv(t)
	bookings(t, env, 24)
	srv := smtptest.Start(t)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		w := newWorker(env, srv, nil)
		w.Batch = 4
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := w.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	assertExactlyOnce(t, env, srv)
}

// The test server refuses the first two attempts with a temporary error:
// the worker retries after growing waits and delivers once.
func TestRetriesWithExponentialBackoffAfterTemporaryRefusals(t *testing.T) {
	env := newEnv(t)
	bookings(t, env, 1)
	srv := smtptest.Start(t, smtptest.WithReject(func(cmd string, n int) string {
		if cmd == "MAIL" && n <= 2 {
			return "451 4.3.0 mailbox busy, try again later"
		}
		return ""
	}))
	logs := newSyncBuffer()
	w := newWorker(env, srv, logs)
	w.RetryBase = 300 * time.Millisecond
	runUntil(t, w)
	srv.WaitFor(t, 1, 10*time.Second)
	attempts := srv.Attempts()
	if len(attempts) != 3 {
		t.Fatalf("%d attempts, want 3", len(attempts))
	}
	// Equal jitter: the k-th wait lies between half and all of base*2^(k-1).
	if gap := attempts[1].Sub(attempts[0]); gap < 150*time.Millisecond {
		t.Errorf("first retry after %v, want at least 150ms", gap)
	}
	if gap := attempts[2].Sub(attempts[1]); gap < 300*time.Millisecond {
		t.Errorf("second retry after %v, want at least 300ms", gap)
	}
	eventually(t, 5*time.Second, "the row marked SENT", func() bool {
		n := all(t, env)[0]
		return n.EmailStatus == notification.EmailStatusSENT && n.Attempts == 3 && n.LastError == nil && n.SentAt != nil
	})
	if !strings.Contains(logs.String(), "MAIL 451") || strings.Contains(logs.String(), "@example.com") {
		t.Errorf("the retry log should name the reply code and no address:\n%s", logs.String())
	}
	assertExactlyOnce(t, env, srv)
}

// A relay that keeps refusing uses up the attempts and the row is FAILED;
// a 5xx refusal of the recipient fails it at once.
func TestGivesUpAfterMaxAttemptsAndAtOnceOnPermanentRefusal(t *testing.T) {
	env := newEnv(t)
	bookings(t, env, 1)
	busy := smtptest.Start(t, smtptest.WithReject(func(cmd string, _ int) string {
		if cmd == "MAIL" {
			return "421 4.3.2 system not accepting messages"
		}
		return ""
	}))
	w := newWorker(env, busy, nil)
	w.MaxAttempts, w.RetryBase = 3, 20*time.Millisecond
	stop := runUntil(t, w)
	eventually(t, 10*time.Second, "the row FAILED", func() bool {
		return all(t, env)[0].EmailStatus == notification.EmailStatusFAILED
	})
	time.Sleep(200 * time.Millisecond)
	stop()
	n := all(t, env)[0]
	if got := len(busy.Attempts()); got != 3 || n.Attempts != 3 || n.LastError == nil || !strings.Contains(*n.LastError, "421") {
		t.Fatalf("%d attempts at the server, row %+v", got, n)
	}

	bookings(t, env, 1)
	unknown := smtptest.Start(t, smtptest.WithReject(func(cmd string, _ int) string {
		if cmd == "RCPT" {
			return "550 5.1.1 no such mailbox"
		}
		return ""
	}))
	w = newWorker(env, unknown, nil)
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	last := all(t, env)[1]
	if last.EmailStatus != notification.EmailStatusFAILED || last.Attempts != 1 || len(unknown.Attempts()) != 1 {
		t.Fatalf("after a 550: %s with %d attempts", last.EmailStatus, last.Attempts)
	}
}

// assertExactlyOnce checks every notification was sent, and reached the
// server exactly once.
func assertExactlyOnce(t *testing.T, env *apptest.Env, srv *smtptest.Server) {
	t.Helper()
	rows := all(t, env)
	raw := map[string]int{}
	for _, m := range srv.Messages() {
		raw[m.MessageID]++
	}
	for _, n := range rows {
		if n.EmailStatus != notification.EmailStatusSENT {
			t.Errorf("row %d is %s", n.ID, n.EmailStatus)
		}
		if c := raw[messageID(n.ID)]; c != 1 {
			t.Errorf("row %d reached the server %d times", n.ID, c)
		}
	}
	if len(srv.Messages()) != len(rows) {
		t.Errorf("%d messages for %d notifications", len(srv.Messages()), len(rows))
	}
}

// assertOncePerMessageID counts deliveries by Message-ID, as a receiver
// that suppresses duplicates does.
func assertOncePerMessageID(t *testing.T, env *apptest.Env, srv *smtptest.Server) {
	t.Helper()
	rows := all(t, env)
	ids := srv.ByMessageID()
	if len(ids) != len(rows) {
		t.Errorf("%d distinct Message-IDs for %d notifications", len(ids), len(rows))
	}
	for _, n := range rows {
		if ids[messageID(n.ID)] == 0 {
			t.Errorf("notification %d never arrived", n.ID)
		}
	}
}
