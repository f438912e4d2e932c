package loader

import (
	"context"
	"time"
)

// Defaults for look-ups batched per response.
const (
	DefaultWait  = 2 * time.Millisecond
	DefaultBatch = 200
)

// PerResponse makes one Loader per GraphQL response: Install puts a fresh
// one in the response's context (results never outlive the response nor
// cross viewers) and Load uses it. The PerResponse value itself is the
// context key, so services can have as many as they need.
type PerResponse[K comparable, V any] struct {
	fetch FetchFunc[K, V]
}

// NewPerResponse returns a PerResponse fetching with fetch.
func NewPerResponse[K comparable, V any](fetch FetchFunc[K, V]) *PerResponse[K, V] {
	return &PerResponse[K, V]{fetch: fetch}
}

// Install returns ctx with a fresh Loader.
func (p *PerResponse[K, V]) Install(ctx context.Context) context.Context {
	return context.WithValue(ctx, p, New(p.fetch, DefaultWait, DefaultBatch))
}

// Load loads key through the response's Loader; ok is false when none is
// installed (the caller then looks the key up itself).
func (p *PerResponse[K, V]) Load(ctx context.Context, key K) (v V, ok bool, err error) {
	l, ok := ctx.Value(p).(*Loader[K, V])
	if !ok {
		return v, false, nil
	}
	v, err = l.Load(ctx, key)
	return v, true, err
}

// Expect tells the response's Loader, if one is installed, which keys
// its fields are about to load (see Loader.Expect).
func (p *PerResponse[K, V]) Expect(ctx context.Context, keys []K) {
	if l, ok := ctx.Value(p).(*Loader[K, V]); ok {
		l.Expect(keys)
	}
}

// ByKey makes a FetchFunc for look-ups of at most one row per key: query
// returns the rows of the keys, and key names each row's key.
func ByKey[K comparable, V any](query func(context.Context, []K) ([]V, error), key func(V) K) FetchFunc[K, V] {
	return func(ctx context.Context, keys []K) (map[K]V, error) {
		rows, err := query(ctx, keys)
		if err != nil {
			return nil, err
		}
		out := make(map[K]V, len(rows))
		for _, r := range rows {
			out[key(r)] = r
		}
		return out, nil
	}
}
