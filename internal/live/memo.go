package live

import (
	"sync"
	"time"
)

// memo computes a value once per key and shares it for a short while: one
// event pushed to thousands of subscriptions of the same viewer (a clinic
// screen per room, say) is loaded from the database once, not once each.
// Keys include the viewer, so nothing crosses people.
type memo[K comparable, V any] struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[K]*memoEntry[V]
	swept   time.Time
}

type memoEntry[V any] struct {
	once sync.Once
	at   time.Time
	val  V
	ok   bool
	err  error
}

func newMemo[K comparable, V any](ttl time.Duration) *memo[K, V] {
	return &memo[K, V]{ttl: ttl, entries: map[K]*memoEntry[V]{}}
}

func (m *memo[K, V]) get(k K, compute func() (V, bool, error)) (V, bool, error) {
	now := time.Now()
	m.mu.Lock()
	if now.Sub(m.swept) > m.ttl {
		for key, e := range m.entries {
			if now.Sub(e.at) > m.ttl {
				delete(m.entries, key)
			}
		}
		m.swept = now
	}
	e, ok := m.entries[k]
	if !ok {
		e = &memoEntry[V]{at: now}
		m.entries[k] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.val, e.ok, e.err = compute() })
	return e.val, e.ok, e.err
}
