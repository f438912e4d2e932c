package multipart

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// marker is plaintext that must never be found on disk.
var marker = bytes.Repeat([]byte("CPF 123.456.789-09 HIV+ "), 4)

func content(n int) []byte {
	b := bytes.Repeat(marker, n/len(marker)+1)
	return b[:n]
}

func TestSmallFilesStayInMemory(t *testing.T) {
	s := &spool{}
	err := s.fill(bytes.NewReader(content(1000)), 1000, func() (*os.File, error) {
		t.Fatal("a file within the memory allowance was written to disk")
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	got, _ := io.ReadAll(s.reader())
	if !bytes.Equal(got, content(1000)) || s.size != 1000 {
		t.Fatalf("read %d bytes (size %d)", len(got), s.size)
	}
}

func TestLargeFilesAreSpooledSealed(t *testing.T) {
	const maxMemory, n = 1 << 10, 300 << 10 // several envelope segments
	want := content(n)
	path := filepath.Join(t.TempDir(), "spool")
	s := &spool{}
	err := s.fill(bytes.NewReader(want), maxMemory, func() (*os.File, error) {
		return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(onDisk)) <= int64(n) || bytes.Contains(onDisk, marker[:24]) {
		t.Fatalf("the spooled file holds plaintext (%d bytes on disk for %d)", len(onDisk), n)
	}
	if s.size != n {
		t.Fatalf("size %d, want %d", s.size, n)
	}

	// Two readers of one file (one upload bound to two variables) do not
	// disturb each other, and each can rewind.
	a, b := s.reader(), s.reader()
	headA := make([]byte, 512)
	if _, err := io.ReadFull(a, headA); err != nil {
		t.Fatal(err)
	}
	allB, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(allB, want) {
		t.Fatalf("second reader: %d bytes, %v", len(allB), err)
	}
	if _, err := a.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	allA, err := io.ReadAll(a)
	if err != nil || !bytes.Equal(allA, want) {
		t.Fatalf("rewound reader: %d bytes, %v", len(allA), err)
	}
	if _, err := a.Seek(10, io.SeekStart); err == nil {
		t.Fatal("a seek other than a rewind was accepted")
	}

	// Altered bytes on disk never come out as a file.
	onDisk[len(onDisk)/2] ^= 1
	if err := os.WriteFile(path, onDisk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(s.reader()); err == nil {
		t.Fatal("a tampered spool was read to the end")
	}

	key := s.key
	s.close()
	if !bytes.Equal(key, make([]byte, len(key))) {
		t.Fatal("the spool's key outlived the request")
	}
}

func TestSpoolFileHasNoName(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	f, err := newSpoolFile()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
		t.Fatalf("the temporary file is still reachable by name: %v", err)
	}
	if _, err := f.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
}
