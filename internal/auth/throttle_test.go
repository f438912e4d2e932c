package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Two replicas on one database count the same attempts: together they
// allow what one would.
func TestDBLimiterIsSharedByReplicas(t *testing.T) {
	db := TestDatabase(t)
	clock := &fakeClock{t: testNow}
	a, b := NewDBLimiter(db, clock.Now), NewDBLimiter(db, clock.Now)
	const acc = "patient:ana@example.com"
	for i := range AccountFailureLimit {
		l := a
		if i%2 == 1 {
			l = b
		}
		if ok, _ := attempt(t, l, acc, "203.0.113.7", false); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		clock.Advance(time.Minute)
	}
	for name, l := range map[string]LoginLimiter{"A": a, "B": b} {
		ok, retry := allowed(t, l, acc, "198.51.100.1")
		if ok || retry != FailureWindow-AccountFailureLimit*time.Minute {
			t.Errorf("replica %s after five failures spread over both: ok=%v retry=%v", name, ok, retry)
		}
	}
	// A success on one replica clears the account for the other.
	clock.Advance(FailureWindow)
	if ok, _ := attempt(t, a, acc, "203.0.113.7", true); !ok {
		t.Fatal("refused after the window")
	}
}

func TestDBLimiterKeepsNoIdentifiersAndSweeps(t *testing.T) {
	db := TestDatabase(t)
	clock := &fakeClock{t: testNow}
	l := NewDBLimiter(db, clock.Now)
	attempt(t, l, "patient:ana@example.com", "203.0.113.7", false)
	attempt(t, l, "doctor:123456-SP", "2001:db8:1:2::1", false)
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT key, addr FROM login_attempts`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var key, addr string
		if err := rows.Scan(&key, &addr); err != nil {
			t.Fatal(err)
		}
		n++
		for _, secret := range []string{"ana", "example.com", "123456", "203.0.113", "2001:db8"} {
			if strings.Contains(key, secret) || strings.Contains(addr, secret) {
				t.Errorf("row holds %q in clear: %q %q", secret, key, addr)
			}
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 4 { // one failure per account and per address
		t.Fatalf("%d rows, want 4", n)
	}
	// Once they no longer count, the next attempt sweeps them away.
	clock.Advance(FailureWindow + sweepEvery)
	allowed(t, l, "patient:bia@example.com", "")
	var left int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM login_attempts`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d rows left after the sweep", left)
	}
}
