package auth

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestDatabase opens a migrated database of the test's own; database_test.go
// sets it from outside the package, where testdb may be imported: testdb
// loads the Ent runtime, whose schema's reactions import this package.
var TestDatabase func(testing.TB) *sql.DB

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newMemoryLimiter() (*MemoryLimiter, *fakeClock) {
	c := &fakeClock{t: testNow}
	return NewMemoryLimiter(c.Now), c
}

// limiters runs a behaviour against every implementation: the one each
// process keeps and the one the replicas share through the database.
func limiters(t *testing.T, test func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock))) {
	t.Run("memory", func(t *testing.T) {
		test(t, func() (LoginLimiter, *fakeClock) { return newMemoryLimiter() })
	})
	t.Run("database", func(t *testing.T) {
		test(t, func() (LoginLimiter, *fakeClock) {
			c := &fakeClock{t: testNow}
			return NewDBLimiter(TestDatabase(t), c.Now), c
		})
	})
}

// attempt is one login: Allow, then Fail when allowed and !success, or
// Succeed. It reports what Allow said.
func attempt(t *testing.T, l LoginLimiter, account, addr string, success bool) (bool, time.Duration) {
	t.Helper()
	ctx := context.Background()
	ok, retry, err := l.Allow(ctx, account, addr)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return false, retry
	}
	if retry != 0 {
		t.Errorf("allowed with retryAfter %v", retry)
	}
	if success {
		err = l.Succeed(ctx, account)
	} else {
		err = l.Fail(ctx, account, addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return true, 0
}

func allowed(t *testing.T, l LoginLimiter, account, addr string) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(context.Background(), account, addr)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		// Report the probe's outcome so it does not hold a place.
		if err := l.Succeed(context.Background(), account); err != nil {
			t.Fatal(err)
		}
	}
	return ok, retry
}

func TestLimiterAccountLock(t *testing.T) {
	limiters(t, func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock)) {
		tests := []struct {
			name      string
			addrs     func(i int) string
			wantAfter int // failures allowed before the lock
		}{
			{"one address", func(int) string { return "203.0.113.7" }, AccountFailureLimit},
			{"a different address each time", func(i int) string { return fmt.Sprintf("198.51.100.%d", i+1) }, AccountFailureLimit},
			{"unknown address", func(int) string { return "" }, AccountFailureLimit},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l, clock := newLimiter()
				for i := range tt.wantAfter {
					if ok, _ := attempt(t, l, "patient:ana@example.com", tt.addrs(i), false); !ok {
						t.Fatalf("attempt %d refused before the limit", i+1)
					}
					clock.Advance(time.Minute)
				}
				ok, retry := attempt(t, l, "patient:ana@example.com", tt.addrs(99), false)
				if ok {
					t.Fatal("attempt after the limit allowed")
				}
				// The first failure was 5 minutes ago: it leaves the window in 10.
				if want := FailureWindow - time.Duration(tt.wantAfter)*time.Minute; retry != want {
					t.Errorf("retryAfter = %v, want %v", retry, want)
				}
				if ok, _ := allowed(t, l, "patient:bia@example.com", "192.0.2.1"); !ok {
					t.Error("another account is locked too")
				}
				if ok, _ := allowed(t, l, "patient:ana@example.com", "192.0.2.1"); ok {
					t.Error("the locked account is allowed from yet another address")
				}
			})
		}
	})
}

func TestLimiterSlidingWindow(t *testing.T) {
	limiters(t, func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock)) {
		l, clock := newLimiter()
		const acc = "doctor:12345-SP"
		// Failures at minutes 0..4.
		for i := range AccountFailureLimit {
			if ok, _ := attempt(t, l, acc, "203.0.113.7", false); !ok {
				t.Fatalf("attempt %d refused", i+1)
			}
			clock.Advance(time.Minute)
		}
		// Minute 14:59.999 — all five still inside the window.
		clock.Advance(FailureWindow - AccountFailureLimit*time.Minute - time.Millisecond)
		if ok, retry := allowed(t, l, acc, "203.0.113.7"); ok || retry != time.Millisecond {
			t.Fatalf("just before the first failure expires: ok=%v retry=%v", ok, retry)
		}
		// Minute 15: the first failure leaves the window, one attempt frees up.
		clock.Advance(time.Millisecond)
		if ok, _ := attempt(t, l, acc, "203.0.113.7", false); !ok {
			t.Fatal("refused after the oldest failure left the window")
		}
		if ok, retry := allowed(t, l, acc, "203.0.113.7"); ok || retry != time.Minute {
			t.Fatalf("after using the freed attempt: ok=%v retry=%v, want the next expiry in 1m", ok, retry)
		}
		// Long after, everything has expired.
		clock.Advance(FailureWindow)
		for i := range AccountFailureLimit {
			if ok, _ := attempt(t, l, acc, "203.0.113.7", false); !ok {
				t.Fatalf("attempt %d refused after the window", i+1)
			}
		}
	})
}

func TestLimiterAddressLimit(t *testing.T) {
	limiters(t, func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock)) {
		l, clock := newLimiter()
		const addr = "203.0.113.7"
		// Spraying: a few guesses at each of many accounts, under the account
		// limit every time.
		for i := range AddressFailureLimit {
			if ok, _ := attempt(t, l, fmt.Sprintf("patient:user%d@example.com", i/2), addr, false); !ok {
				t.Fatalf("attempt %d refused before the address limit", i+1)
			}
			clock.Advance(10 * time.Second)
		}
		ok, retry := attempt(t, l, "patient:fresh@example.com", addr, false)
		if ok {
			t.Fatal("address over its limit still allowed on a fresh account")
		}
		if want := FailureWindow - AddressFailureLimit*10*time.Second; retry != want {
			t.Errorf("retryAfter = %v, want %v", retry, want)
		}
		if ok, _ := allowed(t, l, "patient:fresh@example.com", "198.51.100.1"); !ok {
			t.Error("another address is refused for an account with no failures")
		}
		// A correct password from the throttled address does not get through
		// either: the address limit applies before the password is checked.
		if ok, _ := attempt(t, l, "patient:user0@example.com", addr, true); ok {
			t.Error("throttled address allowed")
		}
		clock.Advance(FailureWindow)
		if ok, _ := allowed(t, l, "patient:fresh@example.com", addr); !ok {
			t.Error("address still refused after the window")
		}
	})
}

func TestLimiterIPv6GroupsBy64(t *testing.T) {
	limiters(t, func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock)) {
		l, _ := newLimiter()
		for i := range AddressFailureLimit {
			addr := fmt.Sprintf("2001:db8:1:2:%x::1", i+1) // same /64, different hosts
			if ok, _ := attempt(t, l, fmt.Sprintf("patient:user%d@example.com", i), addr, false); !ok {
				t.Fatalf("attempt %d refused", i+1)
			}
		}
		if ok, _ := allowed(t, l, "patient:fresh@example.com", "2001:db8:1:2:ffff::9"); ok {
			t.Error("another host in the same /64 is not throttled")
		}
		if ok, _ := allowed(t, l, "patient:fresh@example.com", "2001:db8:1:3::1"); !ok {
			t.Error("a different /64 is throttled")
		}
		if got, want := addrKey("::ffff:203.0.113.7"), "203.0.113.7"; got != want {
			t.Errorf("addrKey(IPv4-mapped) = %q, want %q", got, want)
		}
	})
}

func TestLimiterSucceedResetsAccount(t *testing.T) {
	limiters(t, func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock)) {
		l, _ := newLimiter()
		const acc, addr = "patient:ana@example.com", "203.0.113.7"
		for range AccountFailureLimit - 1 {
			attempt(t, l, acc, addr, false)
		}
		if ok, _ := attempt(t, l, acc, addr, true); !ok {
			t.Fatal("the last attempt under the limit was refused")
		}
		// A fresh allowance of failures.
		for i := range AccountFailureLimit {
			if ok, _ := attempt(t, l, acc, addr, false); !ok {
				t.Fatalf("failure %d after a success refused: Succeed did not reset the account", i+1)
			}
		}
		if ok, _ := allowed(t, l, acc, addr); ok {
			t.Fatal("not locked after five new failures")
		}

		// The address keeps its count: 4+5 failures so far, and a success on an
		// account of one's own must not wipe that.
		l2, _ := newLimiter()
		for i := range AddressFailureLimit - 1 {
			attempt(t, l2, fmt.Sprintf("patient:victim%d@example.com", i), addr, false)
		}
		attempt(t, l2, "patient:attacker@example.com", addr, true)
		if ok, _ := attempt(t, l2, "patient:victim99@example.com", addr, false); !ok {
			t.Fatal("the 20th failure was refused")
		}
		if ok, _ := allowed(t, l2, "patient:victim100@example.com", addr); ok {
			t.Error("a success on another account reset the address counter")
		}
	})
}

// Attempts in flight count: a burst of parallel guesses cannot all pass
// Allow before the first Fail is recorded.
func TestLimiterCountsAttemptsInFlight(t *testing.T) {
	limiters(t, func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock)) {
		l, clock := newLimiter()
		ctx := context.Background()
		const acc = "patient:ana@example.com"
		for i := range AccountFailureLimit {
			if ok, _, _ := l.Allow(ctx, acc, fmt.Sprintf("198.51.100.%d", i+1)); !ok {
				t.Fatalf("parallel attempt %d refused", i+1)
			}
		}
		ok, retry, _ := l.Allow(ctx, acc, "198.51.100.99")
		if ok || retry != pendingRetry {
			t.Fatalf("attempt beyond the limit while all are in flight: ok=%v retry=%v", ok, retry)
		}
		// An attempt that never reports back stops counting after pendingTTL.
		clock.Advance(pendingTTL)
		if ok, _, _ := l.Allow(ctx, acc, "198.51.100.99"); !ok {
			t.Fatal("abandoned attempts still count")
		}
	})
}

func TestLimiterBoundedMemory(t *testing.T) {
	l, clock := newMemoryLimiter()
	l.maxEntries = 50
	for i := range 500 {
		attempt(t, l, fmt.Sprintf("patient:user%d@example.com", i), fmt.Sprintf("10.0.%d.%d", i/250, i%250), false)
	}
	l.mu.Lock()
	na, nd := len(l.accounts), len(l.addrs)
	l.mu.Unlock()
	if na > 50 || nd > 50 {
		t.Fatalf("entries grew past the cap: %d accounts, %d addresses", na, nd)
	}
	// Everything expires and is swept on the next call.
	clock.Advance(FailureWindow + sweepEvery)
	allowed(t, l, "patient:new@example.com", "")
	l.mu.Lock()
	na, nd = len(l.accounts), len(l.addrs)
	l.mu.Unlock()
	if na != 0 || nd != 0 {
		t.Errorf("stale entries kept: %d accounts, %d addresses", na, nd)
	}
}

func TestLimiterConcurrentUse(t *testing.T) {
	limiters(t, func(t *testing.T, newLimiter func() (LoginLimiter, *fakeClock)) {
		l, _ := newLimiter()
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowedCount := 0
		for g := range 50 {
			wg.Go(func() {
				ok, _, err := l.Allow(context.Background(), "patient:ana@example.com", fmt.Sprintf("198.51.100.%d", g))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					allowedCount++
					mu.Unlock()
					_ = l.Fail(context.Background(), "patient:ana@example.com", fmt.Sprintf("198.51.100.%d", g))
				}
			})
		}
		wg.Wait()
		if allowedCount != AccountFailureLimit {
			t.Errorf("%d of 50 parallel guesses allowed, want %d", allowedCount, AccountFailureLimit)
		}
	})
}
