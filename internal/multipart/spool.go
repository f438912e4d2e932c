package multipart

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/healthmed/healthmed/internal/envelope"
)

// spool holds one uploaded file for the duration of its request: in
// memory when it is small, otherwise in a temporary file sealed with a key
// that exists only in this process's memory, so that a medical file never
// sits on disk readable, not even for the seconds of an upload, and a
// temporary file left behind by a crash is unreadable.
type spool struct {
	mem    []byte
	file   *os.File
	key    []byte
	sealed int64 // bytes in file
	size   int64 // plaintext bytes
}

// newSpoolFile creates the temporary file. The name is removed at once:
// the open descriptor is all the request needs, and nothing is left to
// clean up if the process dies.
func newSpoolFile() (*os.File, error) {
	f, err := os.CreateTemp("", "healthmed-upload-")
	if err != nil {
		return nil, err
	}
	_ = os.Remove(f.Name())
	return f, nil
}

// fill reads r to its end. Up to maxMemory bytes stay in memory; past
// that, everything goes to a sealed file from create.
func (s *spool) fill(r io.Reader, maxMemory int64, create func() (*os.File, error)) error {
	head, err := io.ReadAll(io.LimitReader(r, maxMemory+1))
	if err != nil {
		return err
	}
	if int64(len(head)) <= maxMemory {
		s.mem, s.size = head, int64(len(head))
		return nil
	}
	if s.key, err = envelope.NewDataKey(); err != nil {
		return err
	}
	if s.file, err = create(); err != nil {
		return err
	}
	buf := bufio.NewWriterSize(s.file, envelope.SegmentSize)
	w, err := envelope.NewWriter(buf, s.key)
	if err != nil {
		return err
	}
	n, err := io.Copy(w, io.MultiReader(bytes.NewReader(head), r))
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	s.size, s.sealed = n, envelope.SealedSize(n)
	return nil
}

// reader returns a new, independent reader of the file's plaintext.
func (s *spool) reader() io.ReadSeeker {
	if s.file == nil {
		return bytes.NewReader(s.mem)
	}
	return &sealedReader{src: io.NewSectionReader(s.file, 0, s.sealed), key: s.key}
}

// close drops the file and forgets the key.
func (s *spool) close() {
	if s.file != nil {
		_ = s.file.Close()
	}
	clear(s.key)
	s.mem = nil
}

// sealedReader decrypts a spooled file. It can only rewind, which is all
// its readers do (they sniff the first bytes, then read it all).
type sealedReader struct {
	src *io.SectionReader
	key []byte
	dec *envelope.Reader
}

var errSeek = errors.New("upload: only a rewind to the start is supported")

func (r *sealedReader) Read(p []byte) (int, error) {
	if r.dec == nil {
		d, err := envelope.NewReader(r.src, r.key, nil)
		if err != nil {
			return 0, err
		}
		r.dec = d
	}
	return r.dec.Read(p)
}

func (r *sealedReader) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, errSeek
	}
	if _, err := r.src.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	r.dec = nil
	return 0, nil
}
