package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeyWrapper seals data keys under a key-encryption key. The local
// implementation keeps the KEK in the process; a KMS (AWS KMS, Cloud KMS,
// Vault transit) can stand in for it without touching stored files' format,
// since only the wrapped keys change hands.
type KeyWrapper interface {
	// WrapKey seals dataKey, bound to aad: the same aad must be given to
	// unwrap it.
	WrapKey(ctx context.Context, dataKey, aad []byte) ([]byte, error)
	UnwrapKey(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// ErrUnwrap means a wrapped key could not be opened: another KEK, another
// aad, or altered bytes.
var ErrUnwrap = errors.New("envelope: wrapped key cannot be opened")

const wrapVersion = 1

// LocalKEK wraps data keys with AES-256-GCM under a key held in memory.
type LocalKEK struct{ aead cipher.AEAD }

// NewLocalKEK returns a wrapper for a 32-byte key-encryption key.
func NewLocalKEK(kek []byte) (*LocalKEK, error) {
	if len(kek) != 32 {
		return nil, fmt.Errorf("envelope: key-encryption key is %d bytes, want 32", len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &LocalKEK{aead: aead}, nil
}

// WrapKey returns version || nonce || sealed key. The version byte leaves
// room for a KEK rotation that tells old wraps from new ones.
func (k *LocalKEK) WrapKey(_ context.Context, dataKey, aad []byte) ([]byte, error) {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(dataKey)+k.aead.Overhead())
	out[0] = wrapVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out[1:], dataKey, aad), nil
}

func (k *LocalKEK) UnwrapKey(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(wrapped) < 1+ns+k.aead.Overhead() || wrapped[0] != wrapVersion {
		return nil, ErrUnwrap
	}
	key, err := k.aead.Open(nil, wrapped[1:1+ns], wrapped[1+ns:], aad)
	if err != nil {
		return nil, ErrUnwrap
	}
	return key, nil
}
