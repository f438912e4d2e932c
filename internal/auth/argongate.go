package auth

import (
	"errors"
	"runtime"
	"sync"
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
//     ErrBusy instead of queueing without bound.
type argonGate struct {
	slots, hashSlots, maxQueued int

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
// nothing running and nothing waiting.
func (g *argonGate) leave(hash bool) (idle bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if hash {
		g.hashing--
	}
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
			return g.running == 0
		}
	}
	return false
}
