package envelope

import (
	"context"
	"errors"
	"fmt"
)

// Keyring is how a key-encryption key is rotated: it wraps with the
// current KEK and unwraps with the current or any previous one, so a new
// KEK can be deployed first, every stored key then re-wrapped under it
// (Stale tells which need it), and only then the old KEK retired.
type Keyring struct {
	current  *LocalKEK
	previous []*LocalKEK
}

var _ KeyWrapper = (*Keyring)(nil)

// NewKeyring returns a keyring with the current KEK and the previous ones,
// each 32 bytes.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	cur, err := NewLocalKEK(current)
	if err != nil {
		return nil, err
	}
	r := &Keyring{current: cur}
	for _, p := range previous {
		k, err := NewLocalKEK(p)
		if err != nil {
			return nil, err
		}
		r.previous = append(r.previous, k)
	}
	return r, nil
}

// WrapKey wraps under the current KEK.
func (r *Keyring) WrapKey(ctx context.Context, dataKey, aad []byte) ([]byte, error) {
	return r.current.WrapKey(ctx, dataKey, aad)
}

// UnwrapKey opens a key wrapped under the current KEK or a previous one.
// GCM's tag tells which: a wrong KEK fails to authenticate.
func (r *Keyring) UnwrapKey(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	key, _, err := r.unwrap(ctx, wrapped, aad)
	return key, err
}

func (r *Keyring) unwrap(ctx context.Context, wrapped, aad []byte) (key []byte, current bool, err error) {
	if key, err := r.current.UnwrapKey(ctx, wrapped, aad); err == nil {
		return key, true, nil
	}
	for _, k := range r.previous {
		if key, err := k.UnwrapKey(ctx, wrapped, aad); err == nil {
			return key, false, nil
		}
	}
	return nil, false, ErrUnwrap
}

// Rewrap returns wrapped re-wrapped under the current KEK, and whether it
// had to be: a key already under the current KEK comes back as it is.
func (r *Keyring) Rewrap(ctx context.Context, wrapped, aad []byte) ([]byte, bool, error) {
	key, current, err := r.unwrap(ctx, wrapped, aad)
	if err != nil {
		return nil, false, err
	}
	defer clear(key)
	if current {
		return wrapped, false, nil
	}
	out, err := r.current.WrapKey(ctx, key, aad)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// Rewrapper re-wraps keys under the current KEK; Keyring is one.
type Rewrapper interface {
	Rewrap(ctx context.Context, wrapped, aad []byte) ([]byte, bool, error)
}

// ErrNotRotatable means the key wrapper cannot re-wrap keys (a KMS that
// rotates by itself, say).
var ErrNotRotatable = errors.New("envelope: the key wrapper does not re-wrap keys")

// Sealed is one stored key wrapped under a KEK, as RewrapAll sees it.
type Sealed struct {
	ID      int
	Wrapped []byte
	AAD     []byte
}

// RewrapAll re-wraps, under the current KEK, every key that page returns,
// a page at a time in id order (page gets the last id seen, 0 first, and
// ends with a short page), and hands the new wraps to save. save should
// write only if the row still holds the old wrap, and report whether it
// wrote. It returns how many keys it re-wrapped.
func RewrapAll(ctx context.Context, keys KeyWrapper, pageSize int, page func(after int) ([]Sealed, error),
	save func(id int, old, wrapped []byte) (bool, error)) (int, error) {
	rw, ok := keys.(Rewrapper)
	if !ok {
		return 0, ErrNotRotatable
	}
	n, after := 0, 0
	for {
		rows, err := page(after)
		if err != nil {
			return n, err
		}
		for _, r := range rows {
			after = r.ID
			out, changed, err := rw.Rewrap(ctx, r.Wrapped, r.AAD)
			if err != nil {
				return n, fmt.Errorf("key of %d: %w", r.ID, err)
			}
			if !changed {
				continue
			}
			wrote, err := save(r.ID, r.Wrapped, out)
			if err != nil {
				return n, fmt.Errorf("key of %d: %w", r.ID, err)
			}
			if wrote {
				n++
			}
		}
		if len(rows) < pageSize {
			return n, nil
		}
	}
}
