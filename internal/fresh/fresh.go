// Package fresh shares reads of a value among the callers that want it at
// the same time, without ever handing one a read older than its call.
package fresh

import (
	"context"
	"sync"
	"time"
)

// Reads shares reads of one value: each caller gets a read that started
// after it asked, so the value is as fresh as one it read itself, and
// while a read runs the callers that arrive share the next one. A
// connection storm (a replica taking over ten thousand sockets after a
// deploy) then reads what every socket needs a few times per read's
// duration instead of once per socket, while the pool's connections are
// the scarce thing.
type Reads[T any] struct {
	Read func(context.Context) (T, error)
	// Timeout bounds a read, which runs for every caller sharing it and
	// so under none of their contexts.
	Timeout time.Duration

	mu      sync.Mutex
	running bool
	next    *round[T] // joined by callers until it starts
}

type round[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// Get returns a value read after the call began, or ctx's error.
func (f *Reads[T]) Get(ctx context.Context) (T, error) {
	f.mu.Lock()
	if f.next == nil {
		f.next = &round[T]{done: make(chan struct{})}
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
func (f *Reads[T]) run(r *round[T]) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), f.Timeout)
		r.v, r.err = f.Read(ctx)
		cancel()
		close(r.done)
		f.mu.Lock()
		r, f.next = f.next, nil
		f.running = r != nil
		f.mu.Unlock()
	}
}
