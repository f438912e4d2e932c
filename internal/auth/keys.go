package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySet is the server's own token keys. The first key signs; the others
// only verify, so a key can be rotated in (added after the current one,
// then moved first) and out (removed once the last token it signed has
// expired) without logging anybody out. A KeySet never changes after it
// is built, so it is safe to share.
type KeySet struct {
	keys []signingKey
}

type signingKey struct {
	id   string
	priv *ecdsa.PrivateKey
}

// ParseKeySetPEM reads one or more ECDSA P-256 private keys, each a PKCS#8
// ("PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY") PEM block. The first one
// signs. "EC PARAMETERS" blocks, as written by openssl ecparam, are skipped.
func ParseKeySetPEM(s string) (*KeySet, error) {
	rest := []byte(s)
	ks := &KeySet{}
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var key any
		var err error
		switch b.Type {
		case "EC PARAMETERS":
			continue
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			return nil, fmt.Errorf("auth: signing key: unexpected PEM block %q", b.Type)
		}
		if err != nil {
			// The parse error is dropped: it never contains the key, but
			// there is no reason to test that assumption with a secret.
			return nil, fmt.Errorf("auth: signing key %d: unreadable %s", len(ks.keys)+1, b.Type)
		}
		if err := ks.add(key); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("auth: signing key: text outside PEM blocks")
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("auth: signing key: no PEM private key found")
	}
	return ks, nil
}

// GenerateKeySet returns a set with one fresh key that lives only as long
// as the process: fine for tests and throwaway dev servers, useless where
// tokens must survive a restart or be checked by another replica.
func GenerateKeySet() (*KeySet, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("auth: generate signing key: %w", err)
	}
	ks := &KeySet{}
	if err := ks.add(priv); err != nil {
		return nil, err
	}
	return ks, nil
}

// LoadOrCreateDevKey reads the key set at path, or generates one key and
// writes it there (mode 0600, parent directory 0700) if the file does not
// exist, so dev tokens survive a restart. Production passes its key
// through ParseKeySetPEM instead.
func LoadOrCreateDevKey(path string) (*KeySet, error) {
	if b, err := os.ReadFile(path); err == nil {
		return ParseKeySetPEM(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	ks, err := GenerateKeySet()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(ks.keys[0].priv)
	if err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	// O_EXCL: if another process created the file since ReadFile, use
	// theirs rather than overwrite it and split the two processes' keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, fmt.Errorf("auth: dev signing key: %w", rerr)
		}
		return ParseKeySetPEM(string(b))
	}
	if err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	return ks, nil
}

// KeyIDs returns the key ids (RFC 7638 thumbprints), the signing key first.
// They are public and meant for startup logs and rotation checks.
func (ks *KeySet) KeyIDs() []string {
	ids := make([]string, len(ks.keys))
	for i, k := range ks.keys {
		ids[i] = k.id
	}
	return ids
}

func (ks *KeySet) add(key any) error {
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return fmt.Errorf("auth: signing key %d: want an ECDSA P-256 key for ES256", len(ks.keys)+1)
	}
	id, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return err
	}
	if ks.has(id) {
		return fmt.Errorf("auth: signing key %d: duplicate of key %s", len(ks.keys)+1, id)
	}
	ks.keys = append(ks.keys, signingKey{id: id, priv: priv})
	return nil
}

func (ks *KeySet) has(id string) bool {
	for _, k := range ks.keys {
		if k.id == id {
			return true
		}
	}
	return false
}

func (ks *KeySet) publicKeys() []crypto.PublicKey {
	pubs := make([]crypto.PublicKey, len(ks.keys))
	for i, k := range ks.keys {
		pubs[i] = &k.priv.PublicKey
	}
	return pubs
}

func (ks *KeySet) jwks() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(ks.keys))}
	for i, k := range ks.keys {
		set.Keys[i] = jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.id, Algorithm: string(jose.ES256), Use: "sig"}
	}
	return set
}

// thumbprint is the RFC 7638 SHA-256 thumbprint, base64url: stable for a
// key wherever it is loaded, so every replica names it the same.
func thumbprint(pub *ecdsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("auth: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}
