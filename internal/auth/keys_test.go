package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func newECKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pkcs8PEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func sec1PEM(t *testing.T, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// rfc7638 computes the thumbprint by the RFC's recipe, independently of
// go-jose: SHA-256 over the required members in lexicographic order.
func rfc7638(pub *ecdsa.PublicKey) string {
	b64 := base64.RawURLEncoding.EncodeToString
	// The uncompressed point: 0x04, then X and Y, 32 bytes each.
	point, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	x, y := point[1:33], point[33:65]
	sum := sha256.Sum256(fmt.Appendf(nil, `{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, b64(x), b64(y)))
	return b64(sum[:])
}

func TestParseKeySetPEM(t *testing.T) {
	k1, k2 := newECKey(t, elliptic.P256()), newECKey(t, elliptic.P256())
	// What "openssl ecparam -genkey -name prime256v1" prints.
	ecparams := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"

	tests := []struct {
		name string
		pem  string
		want []string
	}{
		{"pkcs8", pkcs8PEM(t, k1), []string{rfc7638(&k1.PublicKey)}},
		{"sec1", sec1PEM(t, k1), []string{rfc7638(&k1.PublicKey)}},
		{"sec1 with ec parameters", ecparams + sec1PEM(t, k1), []string{rfc7638(&k1.PublicKey)}},
		{"two keys, order kept", pkcs8PEM(t, k2) + sec1PEM(t, k1), []string{rfc7638(&k2.PublicKey), rfc7638(&k1.PublicKey)}},
		{"surrounding blank lines", "\n\n" + pkcs8PEM(t, k1) + "\n\n", []string{rfc7638(&k1.PublicKey)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := ParseKeySetPEM(tt.pem)
			if err != nil {
				t.Fatal(err)
			}
			if got := ks.KeyIDs(); !slices.Equal(got, tt.want) {
				t.Errorf("KeyIDs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseKeySetPEMRejects(t *testing.T) {
	p256 := newECKey(t, elliptic.P256())
	p384 := newECKey(t, elliptic.P384())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	good := pkcs8PEM(t, p256)
	tests := []struct {
		name, pem string
	}{
		{"empty", ""},
		{"not pem", "hello"},
		{"p-384", pkcs8PEM(t, p384)},
		{"p-384 sec1", sec1PEM(t, p384)},
		{"rsa", pkcs8PEM(t, rsaKey)},
		{"public key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))},
		{"corrupt der", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")}))},
		{"duplicate", good + sec1PEM(t, p256)},
		{"trailing text", good + "oops"},
		{"only ec parameters", "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"},
		// An env var whose newlines were flattened to "\n" does not decode.
		{"escaped newlines", strings.ReplaceAll(good, "\n", `\n`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ks, err := ParseKeySetPEM(tt.pem); err == nil {
				t.Fatalf("accepted, key ids %v", ks.KeyIDs())
			}
		})
	}
}

func TestParseKeySetPEMErrorHidesKey(t *testing.T) {
	b := pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("secret-material-0123456789")}
	_, err := ParseKeySetPEM(string(pem.EncodeToMemory(&b)))
	if err == nil {
		t.Fatal("accepted corrupt key")
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(b.Bytes)) {
		t.Errorf("error repeats key material: %v", err)
	}
}

func TestGenerateKeySet(t *testing.T) {
	a, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKeySet()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.KeyIDs()) != 1 || a.KeyIDs()[0] == b.KeyIDs()[0] {
		t.Fatalf("key ids %v and %v: want one fresh key each", a.KeyIDs(), b.KeyIDs())
	}
	if got, want := a.KeyIDs()[0], rfc7638(&a.keys[0].priv.PublicKey); got != want {
		t.Errorf("kid = %s, want thumbprint %s", got, want)
	}
}

func TestLoadOrCreateDevKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "dev-signing-key.pem")
	first, err := LoadOrCreateDevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if perm := st.Mode().Perm(); perm != 0o600 {
			t.Errorf("key file mode = %o, want 600", perm)
		}
		dst, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if perm := dst.Mode().Perm(); perm != 0o700 {
			t.Errorf("key directory mode = %o, want 700", perm)
		}
	}
	again, err := LoadOrCreateDevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.KeyIDs(), again.KeyIDs()) {
		t.Fatalf("reload gave %v, want the persisted %v", again.KeyIDs(), first.KeyIDs())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if parsed, err := ParseKeySetPEM(string(b)); err != nil || !slices.Equal(parsed.KeyIDs(), first.KeyIDs()) {
		t.Fatalf("file does not hold the key: %v", err)
	}

	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateDevKey(path); err == nil {
		t.Fatal("a corrupt key file was accepted (or silently replaced)")
	}
	if b, _ := os.ReadFile(path); string(b) != "not a key" {
		t.Fatal("a corrupt key file was overwritten")
	}
}
