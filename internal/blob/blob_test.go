package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/blob/blobtest"
)

func stores(t *testing.T) map[string]blob.Store {
	fs, err := blob.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]blob.Store{"fs": fs, "s3": blobtest.S3(t)}
}

// failingReader hands out some bytes and then fails, like an upload whose
// encryption or validation gave up half way.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("source failed")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestStoresKeepPutGetDeleteSemantics(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			key, _ := blob.NewKey()
			data := make([]byte, 3<<20+17)
			_, _ = rand.Read(data)
			if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatal(err)
			}
			rc, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes (err %v), want the %d written", len(got), err, len(data))
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("get after delete: %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("second delete: %v", err)
			}

			failed, _ := blob.NewKey()
			if err := s.Put(ctx, failed, &failingReader{n: 100 << 10}, 1<<20); err == nil {
				t.Fatal("put from a failing reader succeeded")
			}
			if _, err := s.Get(ctx, failed); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("a failed put left an object behind: %v", err)
			}

			for _, bad := range []string{"../../etc/passwd", "ab/../../x", strings.Repeat("A", 32), ""} {
				if err := s.Put(ctx, bad, bytes.NewReader(nil), 0); err == nil {
					t.Fatalf("accepted key %q", bad)
				}
			}
		})
	}
}

func TestFSKeepsObjectsPrivate(t *testing.T) {
	root := t.TempDir()
	s, _ := blob.NewFS(root)
	key, _ := blob.NewKey()
	if err := s.Put(context.Background(), key, strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(root, key[:2], key))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("object mode %v (err %v), want 0600", st.Mode().Perm(), err)
	}
}
