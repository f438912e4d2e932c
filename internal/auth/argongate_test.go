package auth

import (
	"errors"
	"testing"
	"time"
)

// queued waits until the gate holds n waiting checks and m waiting hashes.
func queued(t *testing.T, g *argonGate, checks, hashes int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		g.mu.Lock()
		c, h := len(g.checks), len(g.hashes)
		g.mu.Unlock()
		if c == checks && h == hashes {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued %d checks and %d hashes, want %d and %d", c, h, checks, hashes)
		}
		time.Sleep(time.Millisecond)
	}
}

func enterAsync(g *argonGate, hash bool) <-chan error {
	done := make(chan error, 1)
	go func() { done <- g.enter(hash) }()
	return done
}

func passed(ch <-chan error) bool {
	select {
	case <-ch:
		return true
	case <-time.After(50 * time.Millisecond):
		return false
	}
}

// Hashes never hold the last slot: a check finds it free however many
// registrations are under way.
func TestArgonGateKeepsASlotForChecks(t *testing.T) {
	g := newArgonGate(2, 4)
	if err := g.enter(true); err != nil {
		t.Fatal(err)
	}
	second := enterAsync(g, true)
	if passed(second) {
		t.Fatal("a second hash took the last slot")
	}
	if check := enterAsync(g, false); !passed(check) {
		t.Fatal("a check waited while a slot was free")
	}
	g.leave(false)
	g.leave(true)
	if !passed(second) {
		t.Fatal("the waiting hash did not get the freed slot")
	}
}

// A freed slot goes to a waiting check before a waiting hash.
func TestArgonGateServesChecksFirst(t *testing.T) {
	g := newArgonGate(2, 4)
	_ = g.enter(true)
	_ = g.enter(false)
	hash := enterAsync(g, true)
	queued(t, g, 0, 1)
	check := enterAsync(g, false)
	queued(t, g, 1, 1)
	g.leave(false)
	if !passed(check) {
		t.Fatal("the check did not get the freed slot")
	}
	if passed(hash) {
		t.Fatal("a hash went before a check")
	}
	g.leave(true)
	if !passed(hash) {
		t.Fatal("the hash did not get the next slot")
	}
}

func TestArgonGateBoundsWaitingHashes(t *testing.T) {
	g := newArgonGate(2, 2)
	_ = g.enter(true)
	a, b := enterAsync(g, true), enterAsync(g, true)
	queued(t, g, 0, 2)
	if err := g.enter(true); !errors.Is(err, ErrBusy) {
		t.Fatalf("third waiting hash: %v, want ErrBusy", err)
	}
	// Checks are never refused.
	if !passed(enterAsync(g, false)) {
		t.Fatal("a check was held up")
	}
	g.leave(true)
	select {
	case <-a:
		if passed(b) {
			t.Fatal("two hashes ran at once")
		}
	case <-b:
		if passed(a) {
			t.Fatal("two hashes ran at once")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no waiting hash got the freed slot")
	}
}

// leave says "idle" only to the last one out with nobody waiting: that is
// when a password check's memory is handed back at once.
func TestArgonGateIdleOnlyWhenEmpty(t *testing.T) {
	g := newArgonGate(2, 4)
	for range 2 {
		if err := g.enter(false); err != nil {
			t.Fatal(err)
		}
	}
	waiting := enterAsync(g, false)
	queued(t, g, 1, 0)
	if g.leave(false) {
		t.Fatal("idle while a check ran and another had just been let in")
	}
	if !passed(waiting) {
		t.Fatal("the waiting check did not get the freed slot")
	}
	if g.leave(false) {
		t.Fatal("idle while a check still ran")
	}
	if !g.leave(false) {
		t.Fatal("not idle after the last check left")
	}
}

// A hash's slot rests as long as the hash took before the next hash gets
// it; a check does not wait for the rest.
func TestArgonGateHashSlotRests(t *testing.T) {
	g := newArgonGate(2, 4)
	if err := g.enter(true); err != nil {
		t.Fatal(err)
	}
	next := enterAsync(g, true)
	queued(t, g, 0, 1)
	start := time.Now()
	g.leaveHash(300 * time.Millisecond)
	if check := enterAsync(g, false); !passed(check) {
		t.Fatal("a check waited for a hash's rest")
	}
	g.leave(false)
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("the next hash started %v after the last one ended, before its 300 ms rest", took)
	}
	g.leave(true)
}
