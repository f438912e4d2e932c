// Package loader batches the per-item look-ups a GraphQL list makes (each
// doctor's slots, each slot's state) into one query per batch. gqlgen
// resolves list items concurrently; a loader collects the keys requested
// within a short window and fetches them together.
package loader

import (
	"context"
	"sync"
	"time"
)

// FetchFunc loads many keys at once. Keys it leaves out of the map get
// the zero value.
type FetchFunc[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Loader batches Load calls. One Loader lives for one request, so results
// never cross viewers.
type Loader[K comparable, V any] struct {
	fetch    FetchFunc[K, V]
	wait     time.Duration
	maxBatch int

	mu        sync.Mutex
	cache     map[K]*result[V]
	batch     *batch[K, V]
	expected  []K // in the order named: a list longer than a batch splits by its order
	expecting map[K]bool
}

type result[V any] struct {
	done chan struct{}
	val  V
	err  error
}

type batch[K comparable, V any] struct {
	keys    []K
	results []*result[V]
	full    chan struct{}
}

// New returns a loader that waits up to wait for more keys, and at most
// maxBatch keys per fetch.
func New[K comparable, V any](fetch FetchFunc[K, V], wait time.Duration, maxBatch int) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, wait: wait, maxBatch: maxBatch, cache: map[K]*result[V]{}}
}

// Load returns the value for key, fetched in a batch with its neighbours.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	l.mu.Lock()
	if r, ok := l.cache[key]; ok {
		l.mu.Unlock()
		return r.wait(ctx)
	}
	if l.expecting[key] {
		b := l.takeExpected(key)
		l.mu.Unlock()
		l.fill(ctx, b)
		return b.results[0].wait(ctx)
	}
	r := &result[V]{done: make(chan struct{})}
	l.cache[key] = r
	if l.batch == nil {
		l.batch = &batch[K, V]{full: make(chan struct{})}
		go l.run(ctx, l.batch)
	}
	b := l.batch
	b.keys = append(b.keys, key)
	b.results = append(b.results, r)
	if len(b.keys) >= l.maxBatch {
		l.batch = nil
		close(b.full)
	}
	l.mu.Unlock()
	return r.wait(ctx)
}

// Prime stores what one fetch returned for keys, as a batch would, so
// later Loads of those keys answer at once. A caller that already knows
// every key a response will ask for fetches them in one statement on its
// own goroutine, instead of waiting for the loader's window to gather
// them. Keys already requested keep their own answer.
func (l *Loader[K, V]) Prime(keys []K, vals map[K]V, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if _, ok := l.cache[k]; ok {
			continue
		}
		r := &result[V]{done: make(chan struct{}), val: vals[k], err: err}
		close(r.done)
		l.cache[k] = r
	}
}

// Expect names keys the response is about to ask for, the rows of a list
// it has just read. The first Load of any of them fetches them together
// at once, without the window: gqlgen resolves a list's items on
// goroutines of their own, and on a busy machine the window could close
// before every item had asked, which made two statements where one was
// due. Nothing is fetched for keys nobody loads.
func (l *Loader[K, V]) Expect(keys []K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.expecting == nil {
		l.expecting = make(map[K]bool, len(keys))
	}
	for _, k := range keys {
		if _, ok := l.cache[k]; ok || l.expecting[k] {
			continue
		}
		l.expecting[k] = true
		l.expected = append(l.expected, k)
	}
}

// takeExpected makes, under l.mu, a sealed batch of key and the expected
// keys not yet requested, at most maxBatch of them; the rest stay
// expected for their own batch.
func (l *Loader[K, V]) takeExpected(key K) *batch[K, V] {
	b := &batch[K, V]{}
	add := func(k K) {
		r := &result[V]{done: make(chan struct{})}
		l.cache[k] = r
		b.keys = append(b.keys, k)
		b.results = append(b.results, r)
		delete(l.expecting, k)
	}
	add(key)
	rest := l.expected[:0]
	for _, k := range l.expected {
		switch {
		case !l.expecting[k]:
		case len(b.keys) < l.maxBatch:
			add(k)
		default:
			rest = append(rest, k)
		}
	}
	clear(l.expected[len(rest):])
	l.expected = rest
	return b
}

func (l *Loader[K, V]) run(ctx context.Context, b *batch[K, V]) {
	t := time.NewTimer(l.wait)
	select {
	case <-t.C:
		l.mu.Lock()
		if l.batch == b {
			l.batch = nil
		}
		l.mu.Unlock()
	case <-b.full:
		t.Stop()
	}
	l.fill(ctx, b)
}

// fill fetches a sealed batch: nobody appends to it any more. A loader
// lives for one response, whose fields all end with its request: when
// the client has gone, the fetch is cancelled with it rather than left
// running for nobody.
func (l *Loader[K, V]) fill(ctx context.Context, b *batch[K, V]) {
	vals, err := l.fetch(ctx, b.keys)
	for i, k := range b.keys {
		b.results[i].val, b.results[i].err = vals[k], err
		close(b.results[i].done)
	}
}

func (r *result[V]) wait(ctx context.Context) (V, error) {
	select {
	case <-r.done:
		return r.val, r.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
