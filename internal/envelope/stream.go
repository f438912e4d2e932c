// Package envelope encrypts record files at rest. Each file gets its own
// random AES-256 data key, which a KeyWrapper seals under a key-encryption
// key, and the bytes are sealed in fixed-size segments so that neither
// encryption nor decryption ever holds a whole file in memory.
//
// The segment format follows the STREAM construction (Hoang, Reyhanitabar,
// Rogaway, Vizár): every segment is sealed with AES-GCM under the nonce
// prefix||counter, and the additional data carries the header and a flag
// that is set on the last segment only. Reordered segments fail because
// the counter is in the nonce; a file cut at a segment boundary fails
// because its new last segment was sealed without the flag; appended
// segments fail because nothing may follow the flagged one.
package envelope

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
)

const (
	// SegmentSize is the plaintext size of every segment but the last.
	SegmentSize = 64 << 10
	// Overhead is what GCM adds to each segment.
	Overhead = 16
	// KeySize is the size of a data key.
	KeySize = 32

	magic      = "HMR"
	version    = 1
	prefixSize = 8
	headerSize = len(magic) + 1 + prefixSize
	nonceSize  = prefixSize + 4
)

// ErrCorrupt means the sealed bytes were altered, cut short, reordered, or
// sealed under another key, or that the plaintext does not have the
// expected digest. No byte of the failing segment is ever released.
var ErrCorrupt = errors.New("envelope: sealed data is corrupt or truncated")

// SealedSize is the size of the sealed form of n plaintext bytes, so a
// store can be told the exact length before the bytes exist.
func SealedSize(n int64) int64 {
	segments := (n + SegmentSize - 1) / SegmentSize
	if segments == 0 {
		segments = 1 // an empty plaintext still has its flagged last segment
	}
	return int64(headerSize) + n + segments*Overhead
}

// NewDataKey returns a fresh random data key.
func NewDataKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("envelope: data key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// segmenter holds what sealing and opening share: the key, the header
// that every segment's additional data repeats, and the counter.
type segmenter struct {
	aead    cipher.AEAD
	header  []byte
	nonce   [nonceSize]byte
	aad     []byte
	counter uint32
}

func (s *segmenter) init(aead cipher.AEAD, header []byte) {
	s.aead = aead
	s.header = header
	copy(s.nonce[:prefixSize], header[len(magic)+1:])
	s.aad = append(append([]byte{}, header...), 0)
}

// next returns the nonce and additional data of the next segment. The
// counter may not wrap: 2^32 segments of 64 KiB is far beyond any file,
// but a wrapped counter would reuse a nonce.
func (s *segmenter) next(last bool) (nonce, aad []byte, err error) {
	if s.counter == math.MaxUint32 {
		return nil, nil, errors.New("envelope: too many segments")
	}
	binary.BigEndian.PutUint32(s.nonce[prefixSize:], s.counter)
	s.counter++
	s.aad[len(s.aad)-1] = 0
	if last {
		s.aad[len(s.aad)-1] = 1
	}
	return s.nonce[:], s.aad, nil
}

// Writer seals what is written to it. Close seals the last segment and
// must be called; it does not close the underlying writer.
type Writer struct {
	seg    segmenter
	w      io.Writer
	buf    []byte
	out    []byte
	err    error
	closed bool
}

// NewWriter writes the header to w and returns a writer that seals the
// plaintext written to it under key.
func NewWriter(w io.Writer, key []byte) (*Writer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	header := make([]byte, headerSize)
	copy(header, magic)
	header[len(magic)] = version
	// A data key seals one file only, so the prefix need not be random;
	// it is anyway, so that a data key reused by mistake does not reuse
	// nonces as well.
	if _, err := rand.Read(header[len(magic)+1:]); err != nil {
		return nil, err
	}
	if _, err := w.Write(header); err != nil {
		return nil, err
	}
	e := &Writer{w: w, buf: make([]byte, 0, SegmentSize), out: make([]byte, 0, SegmentSize+Overhead)}
	e.seg.init(aead, header)
	return e, nil
}

// Write buffers p and seals every full segment once it knows that more
// data follows: only Close may seal the last one.
func (e *Writer) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.closed {
		return 0, errors.New("envelope: write after close")
	}
	n := 0
	for len(p) > 0 {
		if len(e.buf) == SegmentSize {
			if e.err = e.seal(false); e.err != nil {
				return n, e.err
			}
		}
		k := copy(e.buf[len(e.buf):SegmentSize], p)
		e.buf = e.buf[:len(e.buf)+k]
		p = p[k:]
		n += k
	}
	return n, nil
}

// Close seals the last segment.
func (e *Writer) Close() error {
	if e.closed || e.err != nil {
		return e.err
	}
	e.closed = true
	e.err = e.seal(true)
	return e.err
}

func (e *Writer) seal(last bool) error {
	nonce, aad, err := e.seg.next(last)
	if err != nil {
		return err
	}
	e.out = e.seg.aead.Seal(e.out[:0], nonce, e.buf, aad)
	e.buf = e.buf[:0]
	_, err = e.w.Write(e.out)
	return err
}

// Reader opens what a Writer sealed, one authenticated segment at a time:
// it releases the plaintext of a segment only after that segment has been
// authenticated, and with a digest to check it releases the last segment
// only after the digest of the whole plaintext matched. A reader that
// reaches io.EOF has therefore delivered exactly the sealed file.
type Reader struct {
	seg   segmenter
	r     *bufio.Reader
	in    []byte
	plain []byte
	pos   int
	done  bool
	err   error
	sum   hash.Hash
	want  []byte
}

// NewReader reads the header from r and returns a reader of the
// plaintext. wantSHA256, when not nil, is the SHA-256 the plaintext must
// have.
func NewReader(r io.Reader, key, wantSHA256 []byte) (*Reader, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, SegmentSize+Overhead)
	header := make([]byte, headerSize)
	if _, err := io.ReadFull(br, header); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrCorrupt
		}
		return nil, err
	}
	if !bytes.Equal(header[:len(magic)], []byte(magic)) || header[len(magic)] != version {
		return nil, ErrCorrupt
	}
	d := &Reader{r: br, in: make([]byte, SegmentSize+Overhead), plain: make([]byte, 0, SegmentSize)}
	d.seg.init(aead, header)
	if wantSHA256 != nil {
		d.sum, d.want = sha256.New(), wantSHA256
	}
	return d, nil
}

func (d *Reader) Read(p []byte) (int, error) {
	for d.pos == len(d.plain) {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		d.err = d.open()
	}
	n := copy(p, d.plain[d.pos:])
	d.pos += n
	return n, nil
}

// open reads and authenticates the next segment. A segment is the last
// one when it is short or when nothing follows it.
func (d *Reader) open() error {
	d.plain, d.pos = d.plain[:0], 0
	n, err := io.ReadFull(d.r, d.in)
	last := false
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	case err != nil:
		return err
	default:
		if _, err := d.r.Peek(1); errors.Is(err, io.EOF) {
			last = true
		} else if err != nil {
			return err
		}
	}
	if n < Overhead {
		return ErrCorrupt
	}
	nonce, aad, err := d.seg.next(last)
	if err != nil {
		return err
	}
	plain, err := d.seg.aead.Open(d.plain[:0], nonce, d.in[:n], aad)
	if err != nil {
		return ErrCorrupt
	}
	if d.sum != nil {
		d.sum.Write(plain)
		if last && subtle.ConstantTimeCompare(d.sum.Sum(nil), d.want) != 1 {
			return ErrCorrupt
		}
	}
	d.plain, d.done = plain, last
	return nil
}
