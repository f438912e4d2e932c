package coverage

import (
	"errors"
	"sync"
	"time"
)

// ErrOpen is returned without a request while the breaker is open.
var ErrOpen = errors.New("coverage: circuit open, operator API not called")

// Breaker is a small circuit breaker: after Failures failed calls in a
// row it opens and refuses calls for OpenFor; then it lets one probe
// through (half-open), closing again if that succeeds and reopening if
// it fails.
//
// It is written here rather than taken from a library because it is 60
// lines, has no goroutines, and takes an injectable clock, which lets the
// tests step through open, half-open and closed without sleeping.
type Breaker struct {
	Failures int
	OpenFor  time.Duration
	Now      func() time.Time

	mu        sync.Mutex
	failed    int
	openUntil time.Time
	probing   bool
}

// State names the breaker's state: "closed", "open" or "half-open".
func (b *Breaker) State() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.openUntil.IsZero():
		return "closed"
	case b.now().Before(b.openUntil):
		return "open"
	}
	return "half-open"
}

// Allow says whether a call may go out; it returns ErrOpen when not.
// Every allowed call must be followed by Done.
func (b *Breaker) Allow() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.openUntil.IsZero():
		return nil
	case b.now().Before(b.openUntil) || b.probing:
		return ErrOpen
	}
	b.probing = true
	return nil
}

// Done records the outcome of an allowed call.
func (b *Breaker) Done(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if ok {
		b.failed, b.openUntil = 0, time.Time{}
		return
	}
	b.failed++
	if !b.openUntil.IsZero() || b.failed >= max(1, b.Failures) {
		b.openUntil = b.now().Add(b.OpenFor)
	}
}

func (b *Breaker) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}
