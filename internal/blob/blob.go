// Package blob keeps opaque objects (the sealed bytes of record files)
// under keys the server chooses at random: on the local file system, or in
// any S3-compatible object store. Nothing a client sends ever becomes part
// of a key or a path.
package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
)

// Store holds objects by key.
type Store interface {
	// Put stores exactly size bytes read from r under key. A failed Put
	// leaves nothing behind under key.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get returns the object's bytes, or ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the object; a missing object is not an error, so a
	// retried clean-up succeeds.
	Delete(ctx context.Context, key string) error
}

// ErrNotFound means no object has the key.
var ErrNotFound = errors.New("blob: not found")

var errBadKey = errors.New("blob: invalid key")

// NewKey returns a fresh random key.
func NewKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// validKey accepts only what NewKey makes, so that even a key taken from a
// tampered database row cannot name a path outside the store.
func validKey(key string) bool {
	if len(key) != 32 {
		return false
	}
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
