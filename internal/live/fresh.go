package live

import (
	"context"
	"sync"
	"time"
)

// fresh shares reads of one value among the callers that want it at the
// same time: each caller gets a read that started after it asked, so the
// value is as fresh as one it read itself, and while a read runs the
// callers that arrive share the next one. A connection storm (a replica
// taking over ten thousand sockets after a deploy) then reads the event
// horizon a few times per read's duration instead of once per
// subscription, each read a scan of pg_locks holding a pool connection
// that the sockets' sign-in checks are waiting for.
type fresh[T any] struct {
	read func(context.Context) (T, error)
	// timeout bounds a read, which runs for every caller sharing it and
	// so under none of their contexts.
	timeout time.Duration

	mu      sync.Mutex
	running bool
	next    *freshRound[T] // joined by callers until it starts
}

type freshRound[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// get returns a value read after the call began, or ctx's error.
func (f *fresh[T]) get(ctx context.Context) (T, error) {
	f.mu.Lock()
	if f.next == nil {
		f.next = &freshRound[T]{done: make(chan struct{})}
	}
	r := f.next
	if !f.running {
		f.running = true
		f.next = nil
		go f.run(r)
	}
	f.mu.Unlock()
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// run reads for r, then for each round that gathered callers meanwhile.
// A round starts only once it is no longer f.next: nobody joins it after
// its read began.
func (f *fresh[T]) run(r *freshRound[T]) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		r.v, r.err = f.read(ctx)
		cancel()
		close(r.done)
		f.mu.Lock()
		r, f.next = f.next, nil
		f.running = r != nil
		f.mu.Unlock()
	}
}
