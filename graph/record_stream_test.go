package graph_test

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/healthmed/healthmed/internal/apptest"
)

// heapWatch samples the live heap (right after a collection) until
// stopped and reports the largest sample, so a test can tell whether a
// whole file was ever held in memory.
func heapWatch() (stop func() uint64) {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		for {
			runtime.GC()
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapAlloc)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func baseline() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestA25MiBFileNeverSitsWholeInMemory streams a file of the largest
// allowed size up and back down while watching the live heap: encryption,
// storage and decryption work in 64 KiB segments, so the heap never grows
// by anything near the file's size.
func TestA25MiBFileNeverSitsWholeInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 50 MiB")
	}
	env := apptest.New(t)
	alice, _, _ := env.Patient("Alice")
	size := env.App.Records.MaxBytes
	content := func() io.Reader {
		// The same pseudo-random bytes on every call, behind a PDF header.
		return io.MultiReader(
			io.LimitReader(&constReader{b: []byte("%PDF-1.7\n")}, 9),
			io.LimitReader(rand.NewChaCha8([32]byte{7}), size-9))
	}
	want := sha256.New()
	if _, err := io.Copy(want, content()); err != nil {
		t.Fatal(err)
	}
	const slack = 12 << 20

	base := baseline()
	stop := heapWatch()
	r := env.UploadStream(alice, uploadOp, fileInput("Tomografia", "IMAGE"), "tc.pdf", content())
	peak := stop()
	var out struct {
		UploadRecordFile struct {
			ID        string
			SizeBytes int64
		}
	}
	r.Decode(t, &out)
	if out.UploadRecordFile.SizeBytes != size {
		t.Fatalf("stored %d bytes, want %d", out.UploadRecordFile.SizeBytes, size)
	}
	if peak > base+slack {
		t.Fatalf("upload: live heap rose by %d MiB for a %d MiB file", (peak-base)>>20, size>>20)
	}
	t.Logf("upload of %d MiB: live heap peak +%.1f MiB", size>>20, float64(int64(peak)-int64(base))/(1<<20))

	link := downloadURL(t, env, alice, out.UploadRecordFile.ID)
	base = baseline()
	stop = heapWatch()
	req, _ := http.NewRequest(http.MethodGet, env.Server.URL+link[len(env.Config.PublicURL):], nil)
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, res.Body)
	res.Body.Close()
	peak = stop()
	if err != nil || n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Fatalf("download: %d bytes, err %v, digest match %v", n, err, string(got.Sum(nil)) == string(want.Sum(nil)))
	}
	if peak > base+slack {
		t.Fatalf("download: live heap rose by %d MiB for a %d MiB file", (peak-base)>>20, size>>20)
	}
	t.Logf("download of %d MiB: live heap peak +%.1f MiB", size>>20, float64(int64(peak)-int64(base))/(1<<20))
}

type constReader struct{ b []byte }

func (c *constReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], c.b)
	}
	return n, nil
}
