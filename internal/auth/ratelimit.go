package auth

import (
	"context"
	"sync"
	"time"

	"github.com/healthmed/healthmed/internal/ratelimit"
)

// LoginLimiter throttles password guessing. A login calls Allow first and,
// when allowed, exactly one of Fail or Succeed once the password is
// checked. account is whatever names the account being logged into (the
// caller normalises it); clientAddr is the caller's IP address, or empty
// when unknown.
type LoginLimiter interface {
	// Allow reports whether an attempt may proceed, and if not, how long
	// until one may.
	Allow(ctx context.Context, account, clientAddr string) (ok bool, retryAfter time.Duration, err error)
	// Fail records a failed attempt.
	Fail(ctx context.Context, account, clientAddr string) error
	// Succeed forgets the account's failures. The address's failures stay:
	// otherwise one valid account would let its owner reset the address
	// counter between guesses at other accounts.
	Succeed(ctx context.Context, account string) error
}

// Throttling policy: failures counted over a sliding window. The account
// limit stops guessing at one account from many addresses; the address
// limit stops one address spraying a common password over many accounts.
const (
	AccountFailureLimit = 5
	AddressFailureLimit = 20
	FailureWindow       = 15 * time.Minute
)

const (
	// pendingTTL is how long an allowed attempt holds its place if neither
	// Fail nor Succeed follows (the login failed on an internal error).
	pendingTTL = time.Minute
	// pendingRetry is the Retry-After when only attempts in flight, not
	// failures, fill the limit.
	pendingRetry = time.Second
	// sweepEvery spaces full scans for stale entries.
	sweepEvery = time.Minute
	// defaultMaxEntries caps each map (~a few hundred bytes an entry).
	defaultMaxEntries = 100_000
)

// MemoryLimiter is a LoginLimiter for a single process. Its counters are
// lost on restart and not shared between replicas; run one replica or use
// a shared implementation.
type MemoryLimiter struct {
	now        func() time.Time
	maxEntries int

	mu        sync.Mutex
	accounts  map[string]*attempts
	addrs     map[string]*attempts
	lastSweep time.Time
}

// attempts holds, oldest first, the failures still inside the window (at
// most the limit: older ones cannot change a decision) and the attempts
// allowed but not yet reported. Counting the latter is what stops a burst
// of parallel guesses all passing Allow before the first Fail lands.
type attempts struct {
	fails   []time.Time
	pending []pendingAttempt
}

type pendingAttempt struct {
	at   time.Time
	addr string // on account entries, so Succeed can release the address too
}

// NewMemoryLimiter returns an empty limiter; now is the clock, time.Now
// when nil.
func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{
		now:        now,
		maxEntries: defaultMaxEntries,
		accounts:   make(map[string]*attempts),
		addrs:      make(map[string]*attempts),
	}
}

var _ LoginLimiter = (*MemoryLimiter)(nil)

// Allow implements LoginLimiter. An allowed attempt counts against both
// limits until Fail or Succeed reports its outcome.
func (l *MemoryLimiter) Allow(_ context.Context, account, clientAddr string) (bool, time.Duration, error) {
	addr := addrKey(clientAddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	okAcc, waitAcc := l.accounts[account].check(now, AccountFailureLimit)
	okAddr, waitAddr := true, time.Duration(0)
	if addr != "" {
		okAddr, waitAddr = l.addrs[addr].check(now, AddressFailureLimit)
	}
	if !okAcc || !okAddr {
		return false, max(waitAcc, waitAddr), nil
	}
	acc := l.entry(l.accounts, account)
	acc.pending = append(acc.pending, pendingAttempt{at: now, addr: addr})
	if addr != "" {
		ad := l.entry(l.addrs, addr)
		ad.pending = append(ad.pending, pendingAttempt{at: now})
	}
	return true, 0, nil
}

// Fail implements LoginLimiter.
func (l *MemoryLimiter) Fail(_ context.Context, account, clientAddr string) error {
	addr := addrKey(clientAddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.maybeSweep(now)
	acc := l.entry(l.accounts, account)
	acc.release(addr)
	acc.fail(now, AccountFailureLimit)
	if addr != "" {
		ad := l.entry(l.addrs, addr)
		ad.release("")
		ad.fail(now, AddressFailureLimit)
	}
	return nil
}

// Succeed implements LoginLimiter.
func (l *MemoryLimiter) Succeed(_ context.Context, account string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	acc := l.accounts[account]
	if acc == nil {
		return nil
	}
	if len(acc.pending) > 0 {
		if ad := l.addrs[acc.pending[0].addr]; ad != nil {
			ad.release("")
		}
	}
	delete(l.accounts, account)
	return nil
}

// entry returns the entry under key, adding an empty one if there is none.
// At the cap, after dropping what has expired, an arbitrary entry (map
// order) is evicted: the price of bounded memory is that a flood of
// distinct failing accounts or addresses can make the limiter forget some.
// Its sweep can drop other entries with nothing live, so callers hold
// no entry across a call to it unless that entry has something live.
func (l *MemoryLimiter) entry(m map[string]*attempts, key string) *attempts {
	if a := m[key]; a != nil {
		return a
	}
	if len(m) >= l.maxEntries {
		l.sweep(l.now())
		for k := range m {
			if len(m) < l.maxEntries {
				break
			}
			delete(m, k)
		}
	}
	a := &attempts{}
	m[key] = a
	return a
}

func (l *MemoryLimiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
}

func (l *MemoryLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for _, m := range []map[string]*attempts{l.accounts, l.addrs} {
		for k, a := range m {
			if a.prune(now) {
				delete(m, k)
			}
		}
	}
}

// check reports whether one more attempt fits under limit at now and, if
// not, how long until it does. A nil entry always fits.
func (a *attempts) check(now time.Time, limit int) (bool, time.Duration) {
	if a == nil {
		return true, 0
	}
	a.prune(now)
	if len(a.fails)+len(a.pending) < limit {
		return true, 0
	}
	if len(a.fails) >= limit {
		// a.fails is at most limit long, so its oldest entry is the one
		// whose expiry brings the count back under the limit.
		return false, a.fails[0].Add(FailureWindow).Sub(now)
	}
	return false, pendingRetry
}

func (a *attempts) fail(now time.Time, limit int) {
	a.prune(now)
	a.fails = append(a.fails, now)
	if n := len(a.fails) - limit; n > 0 {
		a.fails = append(a.fails[:0], a.fails[n:]...)
	}
}

// release drops one pending attempt, preferring one from addr.
func (a *attempts) release(addr string) {
	if len(a.pending) == 0 {
		return
	}
	i := 0
	for j, p := range a.pending {
		if p.addr == addr {
			i = j
			break
		}
	}
	a.pending = append(a.pending[:i], a.pending[i+1:]...)
}

// prune drops expired failures and pending attempts and reports whether
// nothing is left.
func (a *attempts) prune(now time.Time) bool {
	i := 0
	for i < len(a.fails) && !now.Before(a.fails[i].Add(FailureWindow)) {
		i++
	}
	if i > 0 {
		a.fails = append(a.fails[:0], a.fails[i:]...)
	}
	j := 0
	for j < len(a.pending) && !now.Before(a.pending[j].at.Add(pendingTTL)) {
		j++
	}
	if j > 0 {
		a.pending = append(a.pending[:0], a.pending[j:]...)
	}
	return len(a.fails) == 0 && len(a.pending) == 0
}

// addrKey is the client's address as the throttle counts it (see
// ratelimit.AddressKey).
func addrKey(s string) string { return ratelimit.AddressKey(s) }
