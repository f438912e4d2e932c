// Package record is the patient's electronic medical record: encrypted
// files, shares with doctors, signed download links and the access log.
//
// Who may see what is the Ent privacy policies' business (internal/rule);
// this package validates input, moves bytes through the envelope and the
// blob store, and writes the audit log. Every access to a file by anyone
// but its owner, and every download, writes exactly one audit row, allowed
// or denied. Rows about accesses are written outside the request's
// transaction, so a denial that fails the request is still on record.
//
// What a downloading client sees when stored bytes fail to decrypt: the
// first 64 KiB segment is opened before any header is sent, so damage
// there (and anything wrong with a file that small) is a clean 500 with a
// JSON error. Damage further in ends the response early: the connection is
// aborted before the promised Content-Length is reached, which every HTTP
// client reports as an error (unexpected EOF), and the last segment is
// only released once the SHA-256 of the whole file has matched. A client
// never receives a complete body that differs from what was uploaded.
package record

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/healthmed/healthmed/ent"
	"github.com/healthmed/healthmed/internal/blob"
	"github.com/healthmed/healthmed/internal/clock"
	"github.com/healthmed/healthmed/internal/envelope"
	"github.com/healthmed/healthmed/internal/gqlerr"
	"github.com/healthmed/healthmed/internal/txn"
	"github.com/healthmed/healthmed/internal/viewer"
)

// DefaultMaxBytes is the default limit on an uploaded file.
const DefaultMaxBytes = 25 << 20

// Service holds the record's dependencies.
type Service struct {
	Client *ent.Client
	Store  blob.Store
	Keys   envelope.KeyWrapper
	Links  *Links
	// MaxBytes is the largest file accepted.
	MaxBytes int64
	Log      *slog.Logger
	// Budget bounds what one doctor writes into the access logs; the
	// zero value bounds nothing.
	Budget AuditBudget
	// Now is the clock; tests move it.
	Now func() time.Time
	// SignedIn tells whether a viewer's sign-in and account are still
	// live (nil: no check). A download link ends with them, not only at
	// its own expiry. Its error wraps ErrSignedOut when they have ended.
	SignedIn func(context.Context, viewer.Viewer) error
}

// ErrSignedOut is what SignedIn wraps when a viewer's sign-in or account
// has ended.
var ErrSignedOut = errors.New("record: the sign-in or account has ended")

func (s *Service) now() time.Time { return clock.UTC(s.Now) }

// db returns the transaction of the current mutation, or the client for
// reads.
func (s *Service) db(ctx context.Context) *ent.Client { return txn.Client(ctx, s.Client) }

// pageSize bounds a page: a connection without `first` would otherwise
// return everything, and an empty page is no page.
func pageSize(first *int) (*int, error) {
	const def, max = 20, 100
	switch {
	case first == nil:
		n := def
		return &n, nil
	case *first < 1 || *first > max:
		return nil, gqlerr.BadInput("first", "first must be between 1 and %d", max)
	}
	return first, nil
}
