package auth

import (
	"errors"
	"runtime"
	"sync"
	"time"
)

// ErrBusy is HashPassword's answer when too many new passwords already
// wait to be hashed: the caller should come back in a moment.
var ErrBusy = errors.New("auth: too many passwords being hashed, try again shortly")

// argonGate bounds how many argon2id derivations run at once (each takes
// 7 MiB and a full core, so a burst beyond the core count only adds
// memory pressure, never throughput), and orders them so that a flood of
// registrations cannot slow logins down:
//
//   - checks (a login, a password confirmation) go first: a freed slot
//     goes to the oldest waiting check before any hash;
//   - hashes (a registration, a new password) hold at most all slots but
//     one, so a check never waits for a hash to finish;
//   - at most maxQueued hashes wait; past that HashPassword fails with
//     ErrBusy instead of queueing without bound;
//   - a hash's slot rests as long as the hash took before the next hash
//     may take it, so that hashes use at most half of their cores: with
//     a hash always running, a login's own derivation still shared the
//     machine with the flood's requests and its p99 sat at about twice
//     the idle one (1.6-2.2x); resting, 1.4-1.7x.
type argonGate struct {
	slots, hashSlots, maxQueued int

	// onIdle runs when the last derivation has ended and no hash slot
	// rests any more.
	onIdle func()

	mu      sync.Mutex
	running int
	hashing int
	checks  []chan struct{}
	hashes  []chan struct{}
}

func newArgonGate(slots, maxQueued int) *argonGate {
	return &argonGate{slots: slots, hashSlots: max(1, slots-1), maxQueued: maxQueued}
}

// defaultGate: two slots at least, so that a hash and a check can run side
// by side on the smallest machine.
var defaultGate = newArgonGate(max(2, runtime.GOMAXPROCS(0)), 16)

// enter waits for a slot; a hash may be refused with ErrBusy. The caller
// calls leave with the same kind once done.
func (g *argonGate) enter(hash bool) error {
	g.mu.Lock()
	if g.running < g.slots && len(g.checks) == 0 && (!hash || g.hashing < g.hashSlots && len(g.hashes) == 0) {
		g.running++
		if hash {
			g.hashing++
		}
		g.mu.Unlock()
		return nil
	}
	if hash && len(g.hashes) >= g.maxQueued {
		g.mu.Unlock()
		return ErrBusy
	}
	ch := make(chan struct{})
	if hash {
		g.hashes = append(g.hashes, ch)
	} else {
		g.checks = append(g.checks, ch)
	}
	g.mu.Unlock()
	// The slot is handed over, counted, by leave.
	<-ch
	return nil
}

// leave frees the caller's slot; it reports whether the gate is now idle:
// nothing running, resting or waiting.
func (g *argonGate) leave(hash bool) (idle bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if hash {
		g.hashing--
	}
	return g.dispatch()
}

// leaveHash frees a hash's slot for checks at once and for the next hash
// once it has rested as long as the hash took.
func (g *argonGate) leaveHash(took time.Duration) {
	g.mu.Lock()
	g.running--
	g.dispatch()
	g.mu.Unlock()
	time.AfterFunc(took, func() {
		g.mu.Lock()
		g.hashing--
		idle := g.dispatch()
		g.mu.Unlock()
		if idle && g.onIdle != nil {
			g.onIdle()
		}
	})
}

// dispatch hands free slots to waiting derivations, checks first; it
// reports whether the gate is idle. g.mu is held.
func (g *argonGate) dispatch() (idle bool) {
	for g.running < g.slots {
		switch {
		case len(g.checks) > 0:
			ch := g.checks[0]
			g.checks = g.checks[1:]
			g.running++
			close(ch)
		case len(g.hashes) > 0 && g.hashing < g.hashSlots:
			ch := g.hashes[0]
			g.hashes = g.hashes[1:]
			g.running++
			g.hashing++
			close(ch)
		default:
			return g.running == 0 && g.hashing == 0
		}
	}
	return false
}
