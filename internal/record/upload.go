package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/envelope"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// Upload stores a new file in the signed-in patient's record, as AddFile
// does for anyone's: the bytes stream from the upload through SHA-256 and
// the envelope into the store; only then is the row written, in the
// mutation's transaction, and a rollback of that transaction removes the
// stored bytes again.
func (s *Service) Upload(ctx context.Context, file graphql.Upload, in RecordFileInput) (*ent.RecordFile, error) {
	v := viewer.FromContext(ctx)
	title, err := cleanTitle("input.title", in.Title)
	if err != nil {
		return nil, err
	}
	tags, err := cleanTags("input.tags", in.Tags)
	if err != nil {
		return nil, err
	}
	return s.AddFile(ctx, v.ID, NewFile{Title: title, Category: in.Category, Tags: tags,
		FileName: file.Filename, Body: file.File, Size: file.Size})
}

type sealedFile struct {
	key        string
	wrappedKey []byte
	sha256     string
}

// keyAAD binds a wrapped data key to its object: a row whose storage key
// was swapped for another's cannot open it.
func keyAAD(storageKey string) []byte { return []byte("healthmed record file " + storageKey) }

// seal encrypts size bytes from r into the store under a fresh random
// key, streaming through a pipe: the encrypting goroutine writes what the
// store reads, 64 KiB at a time. text also checks that the file is UTF-8
// text throughout, not only in its first bytes.
func (s *Service) seal(ctx context.Context, r io.Reader, size int64, text bool) (sealedFile, error) {
	key, err := blob.NewKey()
	if err != nil {
		return sealedFile{}, err
	}
	dataKey, err := envelope.NewDataKey()
	if err != nil {
		return sealedFile{}, err
	}
	wrapped, err := s.Keys.WrapKey(ctx, dataKey, keyAAD(key))
	if err != nil {
		return sealedFile{}, fmt.Errorf("wrap data key: %w", err)
	}
	sum := sha256.New()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- encrypt(pw, r, dataKey, size, sum, text)
	}()
	err = s.Store.Put(ctx, key, pr, envelope.SealedSize(size))
	// If the store gave up early, this unblocks the encrypting goroutine.
	pr.CloseWithError(errors.New("store closed the stream"))
	encErr := <-done
	if encErr != nil || err != nil {
		s.discard(ctx, key)
		if errors.Is(encErr, errNotText) {
			return sealedFile{}, gqlerr.BadInput("file", "only PDF, PNG, JPEG, DICOM and plain UTF-8 text files are accepted")
		}
		if encErr != nil {
			return sealedFile{}, encErr
		}
		return sealedFile{}, fmt.Errorf("store file: %w", err)
	}
	return sealedFile{key: key, wrappedKey: wrapped, sha256: hex.EncodeToString(sum.Sum(nil))}, nil
}

func encrypt(pw *io.PipeWriter, r io.Reader, dataKey []byte, size int64, sum io.Writer, text bool) (err error) {
	defer func() { pw.CloseWithError(err) }()
	enc, err := envelope.NewWriter(pw, dataKey)
	if err != nil {
		return err
	}
	var check textChecker
	dst := io.MultiWriter(sum, enc)
	if text {
		dst = io.MultiWriter(&check, sum, enc)
	}
	n, err := io.Copy(dst, io.LimitReader(r, size+1))
	switch {
	case err != nil:
		return err
	case n != size:
		return fmt.Errorf("upload has %d bytes, announced %d", n, size)
	case text:
		if err := check.Close(); err != nil {
			return err
		}
	}
	return enc.Close()
}

// discard removes stored bytes no row refers to. It is best effort: a
// failure is logged, and the object stays unreferenced and unreadable
// (its data key was never stored).
func (s *Service) discard(ctx context.Context, key string) {
	if err := s.Store.Delete(context.WithoutCancel(ctx), key); err != nil {
		s.Log.ErrorContext(ctx, "discard stored file", "err", err.Error())
	}
}

// discardOnRollback removes the stored bytes if the mutation's transaction
// rolls back after Upload returned (a later resolver failing) or fails to
// commit, so a failed mutation leaves nothing behind.
func (s *Service) discardOnRollback(ctx context.Context, key string) {
	txn.OnAbort(ctx, func() { s.discard(ctx, key) })
}
