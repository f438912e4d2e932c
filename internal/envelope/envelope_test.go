package envelope

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func seal(t *testing.T, key, plain []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, key)
	if err != nil {
		t.Fatal(err)
	}
	// Odd write sizes cross segment boundaries at every offset.
	for p := plain; len(p) > 0; {
		n := min(len(p), 7777)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(key, sealed, want []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(sealed), key, want)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestRoundTripAtSegmentBoundaries(t *testing.T) {
	key, _ := NewDataKey()
	for _, n := range []int{0, 1, SegmentSize - 1, SegmentSize, SegmentSize + 1, 3 * SegmentSize, 3*SegmentSize + 5} {
		plain := random(n)
		sealed := seal(t, key, plain)
		if int64(len(sealed)) != SealedSize(int64(n)) {
			t.Fatalf("n=%d: sealed %d bytes, SealedSize says %d", n, len(sealed), SealedSize(int64(n)))
		}
		if n > 64 && bytes.Contains(sealed, plain[:64]) {
			t.Fatalf("n=%d: plaintext visible in the sealed bytes", n)
		}
		sum := sha256.Sum256(plain)
		got, err := open(key, sealed, sum[:])
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("n=%d: round trip failed: err %v, equal %v", n, err, bytes.Equal(got, plain))
		}
	}
}

func TestTamperingIsDetectedAndNothingOfTheBadSegmentIsReleased(t *testing.T) {
	key, _ := NewDataKey()
	plain := random(3*SegmentSize + 100)
	sealed := seal(t, key, plain)
	seg := SegmentSize + Overhead
	swap := func(b []byte) []byte {
		out := append([]byte{}, b...)
		a, c := headerSize, headerSize+seg
		tmp := append([]byte{}, out[a:a+seg]...)
		copy(out[a:a+seg], out[c:c+seg])
		copy(out[c:c+seg], tmp)
		return out
	}
	other, _ := NewDataKey()
	cases := []struct {
		name string
		key  []byte
		data []byte
	}{
		{"flipped byte in the header", key, flip(sealed, 5)},
		{"flipped byte in the first segment", key, flip(sealed, headerSize+10)},
		{"flipped byte in the last segment", key, flip(sealed, len(sealed)-3)},
		{"cut at a segment boundary", key, sealed[:headerSize+2*seg]},
		{"cut inside a segment", key, sealed[:len(sealed)-50]},
		{"segments reordered", key, swap(sealed)},
		{"segment appended", key, append(append([]byte{}, sealed...), sealed[headerSize:headerSize+seg]...)},
		{"header only", key, sealed[:headerSize]},
		{"another key", other, sealed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := open(tc.key, tc.data, nil)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if !bytes.Equal(got, plain[:len(got)]) {
				t.Fatal("released bytes that are not the plaintext")
			}
		})
	}
}

func TestDigestMismatchWithholdsTheLastSegment(t *testing.T) {
	key, _ := NewDataKey()
	plain := random(2*SegmentSize + 10)
	wrong := sha256.Sum256([]byte("something else"))
	got, err := open(key, seal(t, key, plain), wrong[:])
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	if len(got) >= len(plain) {
		t.Fatalf("released %d of %d bytes despite the digest mismatch", len(got), len(plain))
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0x40
	return out
}

func TestLocalKEKBindsTheWrappedKeyToItsAAD(t *testing.T) {
	kek, _ := NewLocalKEK(random(32))
	ctx := context.Background()
	dk, _ := NewDataKey()
	wrapped, err := kek.WrapKey(ctx, dk, []byte("file-a"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, dk) {
		t.Fatal("data key in the clear")
	}
	if got, err := kek.UnwrapKey(ctx, wrapped, []byte("file-a")); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := kek.UnwrapKey(ctx, wrapped, []byte("file-b")); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("unwrap with another aad: %v", err)
	}
	otherKEK, _ := NewLocalKEK(random(32))
	if _, err := otherKEK.UnwrapKey(ctx, wrapped, []byte("file-a")); !errors.Is(err, ErrUnwrap) {
		t.Fatalf("unwrap with another KEK: %v", err)
	}
	if _, err := NewLocalKEK(random(16)); err == nil {
		t.Fatal("accepted a 16-byte KEK")
	}
}

func TestDevKeyFileIsCreatedOncePrivatelyAndShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "kek")
	const n = 8
	keys := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Fatal("concurrent starts ended with different keys")
		}
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (err %v), want 0600", st.Mode().Perm(), err)
	}
	again, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatal("the key changed on restart")
	}
}
