// Package acctoken makes the secrets of the links account e-mails carry
// (verify an address, reset a password) without storing them.
//
// A link's secret is HMAC-SHA256 of a random per-link nonce under the
// server's link key. The database keeps the nonce and the secret's
// SHA-256 digest, never the secret: the e-mail worker derives it again
// when it writes the message (so a re-send is the same bytes), and a
// link is found by the digest of what the user brings back. Reading the
// database alone therefore opens nothing; nor does the key alone.
package acctoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
)

// Len is the length of a secret: 32 bytes in unpadded base64url.
const Len = 43

// domain separates these MACs from anything else the link key signs.
const domain = "healthmed account link v1\x00"

// Key derives secrets; every replica must hold the same one.
type Key []byte

// NewNonce returns a fresh nonce (128 random bits).
func NewNonce() string { return rand.Text() }

// Secret is the secret of the link with nonce.
func (k Key) Secret(nonce string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(domain))
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Digest is what the database keeps of a secret.
func Digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Parse accepts a secret as the user brings it back: exactly Len
// characters of unpadded base64url that decode to 32 bytes. Anything else
// is refused before any lookup.
func Parse(s string) (string, bool) {
	if len(s) != Len {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return "", false
	}
	return s, true
}

// Link is the page of the front end at base that takes the secret: path
// is "/verify-email" or "/reset-password".
func Link(base, path, secret string) string {
	return base + path + "?token=" + url.QueryEscape(secret)
}
